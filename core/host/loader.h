// Loading plugin libraries into this process and checking what they declare.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "bricks/abi.h"

namespace bricks::host {

// A plugin library loaded with RTLD_NOW | RTLD_LOCAL. The library stays loaded until the
// process exits, so `desc` and everything it points to stay valid.
struct LoadedPlugin {
  std::filesystem::path file;
  const bricks_plugin_desc* desc = nullptr;
};

// Loads `file` (once per canonical path), calls its entry symbol and checks the descriptor.
// Throws BrickError with one line: the dlopen error text, a missing entry symbol, or what
// check_plugin_desc found.
LoadedPlugin load_plugin(const std::filesystem::path& file);

// Checks a descriptor returned by `file`'s entry: ABI major equal and minor not newer than
// the host's, sane struct sizes and counts, every brick with a known kind, a name, a vtable
// at least as long as its kind's minimum with every required slot set (kinds.h), and params
// with names, types and (for enums) choices. Throws BrickError, one line naming the file,
// the brick, its kind and the first problem (for a vtable, the slot).
void check_plugin_desc(const bricks_plugin_desc* desc, const std::string& file);

// Brick `index` of a checked plugin as this host's struct: the plugin's own struct_size is
// the array stride, and fields it does not have (older minor ABI) read as zero.
bricks_brick_desc brick_at(const bricks_plugin_desc& plugin, int32_t index);

// Every vtable starts with BRICKS_VTABLE_HEADER; this is that prefix.
struct VtableHeader {
  BRICKS_VTABLE_HEADER;
};

}  // namespace bricks::host
