// Where the toy plugins of tests/support/test_plugins are built: good/ and bad/ below it.
#pragma once

#include <filesystem>

namespace bricks::host::testing {

inline const std::filesystem::path kToyPlugins = BRICKS_TEST_PLUGIN_DIR;

}  // namespace bricks::host::testing
