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
  // File name ("libfcfs.so") or path -> lowercase hex SHA-256 the file must have. Pins fail
  // closed: a name pinned by path is loaded from that path only (other copies of the name
  // are refused), and a pin that no file satisfies is reported in PluginFiles::pin_problems.
  // A path pin is absolute, or relative to the working directory.
  std::map<std::string, std::string> sha256_pins;
  // Accept plugin files and directories that their group may write (plugin_trust.h);
  // for sites where a team shares a plugin directory through a group.
  bool allow_group_writable = false;
  // A scanning child that has not answered by then is killed and its file reported broken.
  double scan_timeout_s = 10.0;
  // Read descriptors in a child process per file (a crashing plugin is reported, not
  // fatal). Off: load each file in this process (only for trusted plugin sets).
  bool scan_in_child = true;
};

// The plugin files to scan: every `lib*.so` regular file (or link to one) directly in the
// search path's directories, in search order, each file once. Files and directories that
// may not be loaded (see refusal_reason; a directory whose own trust fails is refused
// whole) go to `refused`; pins that no file satisfied go to `pin_problems`.
struct PluginFiles {
  std::vector<std::filesystem::path> files;
  std::vector<BrokenPlugin> refused;
  std::vector<PinProblem> pin_problems;
};
PluginFiles find_plugin_files(const LoadOptions& options);

// Why `file` may not be loaded under `options`, or "" when it may: someone other than root
// or this user could change it or a directory above it (plugin_trust.h), its hash differs
// from its pin, or its name is pinned by a path that is not this file's.
std::string refusal_reason(const std::filesystem::path& file, const LoadOptions& options);

}  // namespace bricks::host
