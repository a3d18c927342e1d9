// The plugins a manifest runs with: loaded from its plugin_paths (and the default search
// path) under its SHA-256 pins, and the manifest validated against them.
#pragma once

#include <memory>

#include "host/registry.h"
#include "manifest/manifest.h"

namespace bricks::engine {

// Warns (spdlog) about each plugin that failed to load. Throws RuntimeError listing the
// validator's errors, one per line, when the manifest is not valid against the catalogue.
// `allow_group_writable`: host::LoadOptions'.
std::unique_ptr<host::Registry> load_registry(const manifest::LoadedManifest& m,
                                              bool allow_group_writable);

}  // namespace bricks::engine
