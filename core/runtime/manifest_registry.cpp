#include "runtime/manifest_registry.h"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "runtime/runtime_error.h"

namespace bricks::engine {

std::unique_ptr<host::Registry> load_registry(const manifest::LoadedManifest& m,
                                              bool allow_group_writable) {
  host::LoadOptions lo;
  lo.search_path = host::plugin_search_path(manifest::manifest_plugin_paths(m));
  lo.sha256_pins = manifest::manifest_pins(m);
  lo.allow_group_writable = allow_group_writable;
  auto registry = std::make_unique<host::Registry>(lo);
  for (const host::BrokenPlugin& b : registry->catalogue().broken) {
    spdlog::warn("plugin {} not loaded: {}", b.file, b.reason);
  }
  std::vector<manifest::Diagnostic> diags;
  if (!manifest::validate_manifest(m, registry->catalogue(), diags)) {
    std::string msg = "the manifest is not valid:";
    for (const auto& d : diags) {
      if (d.error) msg += "\n" + d.format();
    }
    throw RuntimeError(msg);
  }
  return registry;
}

}  // namespace bricks::engine
