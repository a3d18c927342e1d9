// Shared setup for the adapter and merge suites: generated tiny models and adapters in a
// per-process temp dir, in-memory manifests, and runs that record every request's logits.
#pragma once


#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bricks/model/make_adapter.h"
#include "bricks/model/model.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "scratch_dir.h"

namespace bricks::testing {

inline std::filesystem::path fixture_dir() { return scratch_dir("bricks-lora-test"); }

// The tiny preset with weights from `seed`, made once per process.
inline std::filesystem::path tiny_model(uint64_t seed = 1, model::DType dtype = model::DType::F32) {
  const auto file =
      fixture_dir() / ("tiny-" + std::to_string(seed) + "-" + model::dtype_name(dtype) + ".gguf");
  if (!std::filesystem::exists(file)) {
    model::MakeModelOptions o;
    o.preset = "tiny";
    o.dtype = dtype;
    o.seed = seed;
    o.out = file;
    model::make_model(o);
  }
  return file;
}

// fcfs + paged + cpu_paged on `model_path`, two threads, f32 KV.
inline manifest::LoadedManifest base_manifest(const std::filesystem::path& model_path) {
  manifest::LoadedManifest m;
  m.file = fixture_dir() / "test.textproto";
  auto& p = m.proto;
  p.set_name("test");
  if (!model_path.empty()) p.mutable_model()->set_path(model_path.string());
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(2);
  p.mutable_device()->set_kv_cache_bytes(16 << 20);
  p.mutable_device()->set_kv_dtype("f32");
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"scheduler", "fcfs"}, {"kv", "paged"}, {"attention", "cpu_paged"}}) {
    auto* b = p.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
  }
  return m;
}

inline void add_brick(manifest::LoadedManifest& m, const std::string& kind, const std::string& name,
                      const std::map<std::string, std::string>& string_params = {}) {
  auto* b = m.proto.add_bricks();
  b->set_kind(kind);
  b->set_name(name);
  for (const auto& [k, v] : string_params) (*b->mutable_params())[k].set_string(v);
}

// One request to run: its prompt and adapter.
struct Probe {
  std::vector<int32_t> prompt;
  std::string adapter;
};

// Runs `probes` (all arriving at once, greedy, 3 tokens each) and returns each one's
// next-token logits at every step, in probe order.
inline std::vector<std::vector<std::vector<float>>> run_logits(engine::Runtime& rt,
                                                               const std::vector<Probe>& probes,
                                                               int32_t new_tokens = 3) {
  engine::Engine& eng = rt.engine();
  std::map<uint64_t, size_t> index;
  std::vector<std::vector<std::vector<float>>> out(probes.size());
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    out[index.at(r.id)].emplace_back(lg.begin(), lg.end());
  });
  for (size_t i = 0; i < probes.size(); ++i) {
    engine::RequestSpec spec;
    spec.prompt = probes[i].prompt;
    spec.adapter = probes[i].adapter;
    spec.max_new_tokens = new_tokens;
    spec.ignore_eos = true;
    index[eng.submit(spec)] = i;
  }
  eng.run_to_completion();
  return out;
}

inline double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

}  // namespace bricks::testing
