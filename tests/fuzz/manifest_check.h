// What the two manifest fuzz targets share: bytes checked as `bricks validate` checks a file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bricks::fuzz {

enum class ManifestFormat { kText, kJson };

// Parses `data` as a manifest in `format` and, when it parses, validates it against the manifest
// suites' catalogue (test_catalogue.h), as `bricks validate` does with a scanned one (the sim
// device's own check, which needs the engine library, is left out). Diagnostics are the
// outcome bad bytes should have: any exception escapes to the fuzzer, which reports it.
void check_manifest(const uint8_t* data, size_t size, ManifestFormat format);

}  // namespace bricks::fuzz
