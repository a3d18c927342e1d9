// Shared setup for the neuron-partition suites: the tiny f32 model in a per-process temp
// dir, a small calibrated partition of it, manifests and a registry for router bricks.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "engine/neuron_calibrate.h"
#include "host/registry.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "test_models.h"

namespace bricks::testing {

inline std::filesystem::path test_dir() { return scratch_dir("bricks-npart-test"); }

// A fresh copy of the tiny model under `name` (so each test owns its .partition file).
inline std::filesystem::path tiny_model(const std::string& name) {
  const std::filesystem::path original = process_model("tiny");
  const auto file = test_dir() / (name + ".gguf");
  std::filesystem::copy_file(original, file, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(file.string() + ".partition");
  return file;
}

struct RouterChoice {
  std::string name = "neuron_partition";
  double active_share = -1;  // < 0: the brick's default
  int64_t clusters = 0;      // 0: not written
  std::vector<int32_t> layers;
};

inline manifest::LoadedManifest npart_manifest(const std::filesystem::path& model,
                                               const RouterChoice* router) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<partition test>";
  auto& p = m.proto;
  p.set_name("partition test");
  p.mutable_model()->set_path(model.string());
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(2);
  p.mutable_device()->set_kv_cache_bytes(8 << 20);
  p.mutable_device()->set_kv_dtype("f32");
  const std::pair<const char*, const char*> base[] = {
      {"scheduler", "fcfs"}, {"kv", "paged"}, {"attention", "cpu_paged"}};
  for (const auto& [kind, name] : base) {
    auto* b = p.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
  }
  if (router != nullptr) {
    auto* b = p.add_bricks();
    b->set_kind("router");
    b->set_name(router->name);
    if (router->active_share >= 0) {
      (*b->mutable_params())["active_share"].set_float_(router->active_share);
    }
    if (router->clusters > 0) (*b->mutable_params())["clusters"].set_int_(router->clusters);
    for (int32_t l : router->layers) b->add_layers(l);
  }
  return m;
}

// Calibrates `model` with small settings (fast in sanitizer builds) and saves the
// partition beside it.
inline engine::CalibrationResult calibrate_small(const std::filesystem::path& model,
                                                 int32_t clusters) {
  auto rt = engine::Runtime::create(npart_manifest(model, nullptr), {});
  engine::CalibrationOptions o;
  o.clusters = clusters;
  o.max_tokens = 96;
  o.iterations = 6;
  o.prompts = {engine::builtin_calibration_prompts().begin(),
               engine::builtin_calibration_prompts().begin() + 8};
  engine::CalibrationResult r =
      engine::calibrate_partition(rt->engine(), rt->weights(), rt->tokenizer(), o, {});
  r.partition.model_checksum = engine::model_checksum(*rt->model());
  engine::save_partition(r.partition, engine::partition_path_for(model));
  return r;
}

inline host::Registry& build_registry() {
  static host::Registry registry = [] {
    host::LoadOptions lo;
    lo.search_path = {BRICKS_PLUGIN_BUILD_DIR};
    return host::Registry(lo);
  }();
  return registry;
}

}  // namespace bricks::testing
