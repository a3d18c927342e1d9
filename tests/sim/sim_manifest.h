// In-memory manifests for the sim device: one A100-80GB serving Mistral-7B by default,
// with the shipped scheduler and kv bricks, and a generated workload.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "manifest/manifest.h"

namespace bricks::testing {

struct SimBrick {
  std::string kind, name;
  std::vector<std::pair<std::string, manifest::Value>> params;
};

inline manifest::Value int_param_value(int64_t v) {
  manifest::Value x;
  x.set_int_(v);
  return x;
}
inline manifest::Value bool_param_value(bool v) {
  manifest::Value x;
  x.set_bool_(v);
  return x;
}
inline manifest::Value string_param_value(const std::string& v) {
  manifest::Value x;
  x.set_string(v);
  return x;
}

inline std::vector<SimBrick> fcfs_bricks(const std::string& preemption = "recompute") {
  return {{"scheduler", "fcfs", {{"preemption", string_param_value(preemption)}}},
          {"kv", "paged", {{"enable_prefix_cache", bool_param_value(false)}}},
          {"attention", "reference", {}}};
}

inline std::vector<SimBrick> sarathi_bricks() {
  return {{"scheduler", "sarathi", {{"token_budget", int_param_value(512)}}},
          {"kv", "paged", {{"enable_prefix_cache", bool_param_value(false)}}},
          {"attention", "reference", {}}};
}

inline manifest::LoadedManifest sim_manifest(const std::vector<SimBrick>& bricks,
                                             const std::string& gpu = "a100-80gb",
                                             const std::string& model = "mistral-7b") {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<sim-test>";
  auto& p = m.proto;
  p.set_name("sim test");
  auto* d = p.mutable_device();
  d->set_kind("sim");
  d->set_gpu(gpu);
  d->set_sim_model(model);
  for (const SimBrick& c : bricks) {
    auto* b = p.add_bricks();
    b->set_kind(c.kind);
    b->set_name(c.name);
    for (const auto& [k, v] : c.params) (*b->mutable_params())[k] = v;
  }
  // Poisson arrivals; prompts of 32..2048 tokens, outputs of 16..256.
  auto* g = p.mutable_workload()->mutable_generator();
  g->set_num_requests(120);
  g->set_rate(8);
  g->set_prompt_len_min(32);
  g->set_prompt_len_max(2048);
  g->set_output_len_min(16);
  g->set_output_len_max(256);
  g->set_seed(11);
  return m;
}

}  // namespace bricks::testing
