// Shared setup for the engine suites: the tiny f32 model (made once per process in a temp
// dir) and in-memory manifests wiring the shipped bricks.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bricks/model/model.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "test_models.h"

namespace bricks::testing {

inline std::filesystem::path tiny_model_path() { return process_model("tiny"); }

struct BrickChoice {
  std::string kind, name;
  std::vector<std::pair<std::string, bricks::manifest::Value>> params;
};

inline bricks::manifest::Value int_value(int64_t v) {
  bricks::manifest::Value x;
  x.set_int_(v);
  return x;
}
inline bricks::manifest::Value bool_value(bool v) {
  bricks::manifest::Value x;
  x.set_bool_(v);
  return x;
}
inline bricks::manifest::Value string_value(const std::string& v) {
  bricks::manifest::Value x;
  x.set_string(v);
  return x;
}

inline manifest::LoadedManifest make_manifest(const std::vector<BrickChoice>& bricks,
                                              int64_t kv_cache_bytes = 16 << 20,
                                              const std::string& kv_dtype = "f32") {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<test>";
  auto& p = m.proto;
  p.set_name("test");
  p.mutable_model()->set_path(tiny_model_path().string());
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(2);
  p.mutable_device()->set_kv_cache_bytes(kv_cache_bytes);
  p.mutable_device()->set_kv_dtype(kv_dtype);
  for (const BrickChoice& c : bricks) {
    auto* b = p.add_bricks();
    b->set_kind(c.kind);
    b->set_name(c.name);
    for (const auto& [k, v] : c.params) (*b->mutable_params())[k] = v;
  }
  return m;
}

inline std::vector<BrickChoice> default_bricks(const std::string& attention = "cpu_paged") {
  return {{"scheduler", "fcfs", {}}, {"kv", "paged", {}}, {"attention", attention, {}}};
}

// Submits `specs`, runs the engine to completion and returns the ended requests in
// submission order.
inline std::vector<const engine::Request*> run_in_order(
    engine::Runtime& rt, const std::vector<engine::RequestSpec>& specs) {
  engine::Engine& eng = rt.engine();
  std::vector<uint64_t> ids;
  for (const auto& s : specs) ids.push_back(eng.submit(s));
  eng.run_to_completion();
  std::map<uint64_t, const engine::Request*> by_id;
  for (const engine::Request* r : eng.ended()) by_id[r->id] = r;
  std::vector<const engine::Request*> out;
  for (uint64_t id : ids) out.push_back(by_id.at(id));
  return out;
}

}  // namespace bricks::testing
