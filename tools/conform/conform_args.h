// The command line of bricks-conform: the plugin file, which of its bricks to check, param
// values for them, and the GoogleTest flags passed through to the suites.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bricks/abi.h"

namespace bricks::conform {

struct ConformArgs {
  bool help = false;
  std::string plugin;                                       // the plugin file, as given
  std::optional<bricks_kind> kind;                          // --kind
  std::string brick;                                        // --brick; "" for every brick
  std::vector<std::pair<std::string, std::string>> params;  // --param NAME=VALUE, in order
  std::vector<std::string> gtest_flags;                     // --gtest_* as given
  bool allow_group_writable = false;                        // --allow-group-writable-plugins
};

// Parses argv. Throws UsageError with one line (no program name) for a bad command line:
// an unknown option or kind (with a did-you-mean), a missing value, no plugin or two.
ConformArgs parse_args(int argc, char** argv);

struct UsageError {
  std::string message;
};

// The text of --help.
std::string help_text();

}  // namespace bricks::conform
