// The plugin-scanning flags shared by `list`, `inspect` and `validate`
// (--plugin-path DIR..., --scan-timeout S, --allow-group-writable-plugins) and the scan
// they configure; the last flag is on every command that loads plugins.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "host/catalogue.h"

namespace bricks::cli {

// Adds --allow-group-writable-plugins to a command that loads plugins.
void add_plugin_trust_flag(CLI::App* cmd, bool& allow_group_writable);

struct PluginScanFlags {
  std::vector<std::string> plugin_paths;  // searched first, in order
  double timeout_s = 10.0;                // per plugin file
  bool allow_group_writable = false;      // host::LoadOptions::allow_group_writable

  // Adds --plugin-path, --scan-timeout and --allow-group-writable-plugins to `cmd`; they
  // write into this object, which must outlive the parse.
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
