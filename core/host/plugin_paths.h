// Where plugins are looked for, and which files there may be loaded at all.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "host/catalogue.h"

namespace bricks::host {

// Plugin directories in search order: `extra` (from a manifest, already absolute), then
// the colon-separated BRICKS_PLUGIN_PATH, then the install dir, then the build tree's
// plugin dir (so build/bin/bricks works without installing). Empty entries and repeats
// (after making them absolute) are dropped; directories need not exist.
std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& extra);

// The install plugin dir this host was built for.
std::filesystem::path plugin_install_dir();
// The build tree's plugin dir (<tree>/plugins) when this program runs from a build tree
// (<tree>/bin, beside <tree>/CMakeCache.txt); empty otherwise, e.g. once installed.
std::filesystem::path plugin_build_dir();

struct LoadOptions {
  std::vector<std::filesystem::path> search_path;
  // File name ("libfcfs.so") or path -> lowercase hex SHA-256 the file must have.
  std::map<std::string, std::string> sha256_pins;
  // A scanning child that has not answered by then is killed and its file reported broken.
  double scan_timeout_s = 10.0;
  // Read descriptors in a child process per file (a crashing plugin is reported, not
  // fatal). Off: load each file in this process (only for trusted plugin sets).
  bool scan_in_child = true;
};

// The plugin files to scan: every `lib*.so` regular file (or link to one) directly in the
// search path's directories, in search order, each file once. Files and directories that
// may not be loaded (world-writable, pinned hash mismatch, unreadable) go to `refused`.
struct PluginFiles {
  std::vector<std::filesystem::path> files;
  std::vector<BrokenPlugin> refused;
};
PluginFiles find_plugin_files(const LoadOptions& options);

// Why `file` may not be loaded under `options` (world-writable file or directory, pinned
// hash mismatch), or "" when it may.
std::string refusal_reason(const std::filesystem::path& file, const LoadOptions& options);

}  // namespace bricks::host
