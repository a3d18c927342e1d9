// Reading plugin descriptors without trusting the plugins: each file is loaded in a child
// process that sends its descriptors back through a pipe, so a plugin that crashes, aborts
// or hangs while loading is reported as broken and the scan goes on.
#pragma once

#include <filesystem>
#include <vector>

#include "host/catalogue.h"
#include "host/plugin_paths.h"

namespace bricks::host {

// Every plugin file under options.search_path (see find_plugin_files), in search order.
// Refused and broken files land in Catalogue::broken with a one-line reason; so does a
// brick whose kind and name an earlier file already declared (the first one wins, and the
// reason names both files). Pins that no file satisfied land in Catalogue::pin_problems.
// Never throws for a bad plugin.
Catalogue scan_plugins(const LoadOptions& options);

// One file, in a child process killed after `timeout_s`. The result holds either the
// file's bricks or one BrokenPlugin, e.g. "crashed with SIGSEGV while loading",
// "timed out after 10 s while loading", or the loader's reason.
Catalogue scan_file_in_child(const std::filesystem::path& file, double timeout_s);

// The same, in this process (for trusted plugin sets; a crash here is fatal).
Catalogue scan_file_in_process(const std::filesystem::path& file);

}  // namespace bricks::host
