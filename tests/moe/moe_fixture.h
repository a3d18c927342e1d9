// Shared setup for the MoE suites: the moe-tiny f32 model (made once per process in a
// temp dir), in-memory manifests, and a registry that creates router bricks directly.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "host/registry.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "test_models.h"

namespace bricks::testing {

inline std::filesystem::path moe_model_path() { return process_model("moe-tiny"); }

// fcfs + paged + cpu_paged over `model`, plus a router brick when `router` is not empty.
inline manifest::LoadedManifest moe_manifest(const std::filesystem::path& model,
                                             const std::string& router,
                                             const std::vector<int32_t>& layers = {}) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<moe test>";
  auto& p = m.proto;
  p.set_name("moe test");
  p.mutable_model()->set_path(model.string());
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(2);
  p.mutable_device()->set_kv_cache_bytes(8 << 20);
  p.mutable_device()->set_kv_dtype("f32");
  for (const char* kind_name : {"scheduler", "kv", "attention"}) {
    auto* b = p.add_bricks();
    b->set_kind(kind_name);
    b->set_name(std::string(kind_name) == "scheduler" ? "fcfs"
                : std::string(kind_name) == "kv"      ? "paged"
                                                      : "cpu_paged");
  }
  if (!router.empty()) {
    auto* b = p.add_bricks();
    b->set_kind("router");
    b->set_name(router);
    for (int32_t l : layers) b->add_layers(l);
  }
  return m;
}

// A registry over the build tree's plugins, for creating bricks outside a runtime.
inline host::Registry& build_registry() {
  static host::Registry registry = [] {
    host::LoadOptions lo;
    lo.search_path = {BRICKS_PLUGIN_BUILD_DIR};
    return host::Registry(lo);
  }();
  return registry;
}

}  // namespace bricks::testing
