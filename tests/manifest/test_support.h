// Helpers of the manifest suites (the catalogue they validate against is in test_catalogue.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "test_catalogue.h"

namespace bricks::manifest::test_support {

// Writes `text` to a fresh file `name` in a directory of its own under the test temp dir
// and returns its path.
std::filesystem::path write_temp_file(const std::string& name, const std::string& text);

// Loads and validates `text` written as `name` against test_catalogue(); returns every
// diagnostic, formatted, in order.
std::vector<std::string> check_text(const std::string& text,
                                    const std::string& name = "m.textproto");

// A valid manifest of device, model and the three required bricks, one per line (line 1 the
// device, 2 the model, 3-5 scheduler, kv, attention): the cases append what they test.
inline const std::string kCore =
    "device { kind: \"cpu\" }\n"
    "model { builtin: \"tiny\" }\n"
    "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
    "bricks { kind: \"kv\" name: \"paged\" }\n"
    "bricks { kind: \"attention\" name: \"reference\" }\n";

}  // namespace bricks::manifest::test_support
