// The plugin-scanning flags shared by `list`, `inspect` and `validate`
// (--plugin-path DIR..., --scan-timeout S) and the scan they configure.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "host/catalogue.h"

namespace bricks::cli {

struct PluginScanFlags {
  std::vector<std::string> plugin_paths;  // searched first, in order
  double timeout_s = 10.0;                // per plugin file

  // Adds --plugin-path and --scan-timeout to `cmd`; they write into this object, which
  // must outlive the parse.
  void add_to(CLI::App* cmd);
  // The whole search path: the --plugin-path dirs (made absolute), then `more`, then
  // BRICKS_PLUGIN_PATH, the install dir and the build tree's plugin dir.
  std::vector<std::filesystem::path> search_path(
      const std::vector<std::filesystem::path>& more = {}) const;
  // Scans the search path (the --plugin-path dirs first, then `more`, then the defaults),
  // each plugin file in a child process.
  host::Catalogue scan(const std::vector<std::filesystem::path>& more = {},
                       const std::map<std::string, std::string>& pins = {}) const;
};

}  // namespace bricks::cli
