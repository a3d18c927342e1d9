// Shared setup for the pruning engine suites: the tiny f32 model (made once per process),
// manifests with pruning bricks, and requests carrying a generated image.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bricks/model/model.h"
#include "engine/image_input.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "test_models.h"

namespace bricks::testing {

inline std::filesystem::path tiny_model_path() { return process_model("tiny"); }

struct Param {
  std::string name;
  manifest::Value value;
};
inline Param int_p(const std::string& n, int64_t v) {
  Param p{n, {}};
  p.value.set_int_(v);
  return p;
}
inline Param float_p(const std::string& n, double v) {
  Param p{n, {}};
  p.value.set_float_(v);
  return p;
}
inline Param bool_p(const std::string& n, bool v) {
  Param p{n, {}};
  p.value.set_bool_(v);
  return p;
}

struct Brick {
  std::string kind, name;
  std::vector<Param> params;
  std::vector<int32_t> layers;
};

// scheduler fcfs, kv paged (prefix cache off unless asked), attention cpu_paged, + extra.
inline std::vector<Brick> base_bricks(bool prefix_cache = false) {
  return {{"scheduler", "fcfs", {}, {}},
          {"kv", "paged", {bool_p("enable_prefix_cache", prefix_cache)}, {}},
          {"attention", "cpu_paged", {}, {}}};
}

inline manifest::LoadedManifest make_manifest(const std::vector<Brick>& bricks,
                                              int64_t kv_cache_bytes = 16 << 20) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<test>";
  auto& p = m.proto;
  p.set_name("pruning test");
  p.mutable_model()->set_path(tiny_model_path().string());
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(2);
  p.mutable_device()->set_kv_cache_bytes(kv_cache_bytes);
  p.mutable_device()->set_kv_dtype("f32");
  for (const Brick& c : bricks) {
    auto* b = p.add_bricks();
    b->set_kind(c.kind);
    b->set_name(c.name);
    for (const Param& prm : c.params) (*b->mutable_params())[prm.name] = prm.value;
    for (int32_t l : c.layers) b->add_layers(l);
  }
  return m;
}

inline std::unique_ptr<engine::Runtime> make_runtime(std::vector<Brick> extra = {},
                                                     int64_t kv_cache_bytes = 16 << 20,
                                                     std::vector<Brick> base = base_bricks()) {
  base.insert(base.end(), extra.begin(), extra.end());
  return engine::Runtime::create(make_manifest(base, kv_cache_bytes), {});
}

// `text_before` text tokens, a w x h generated image, `text_after` text tokens; greedy.
// The text comes from `text_seed` (default: `seed`), the image from `seed`.
inline engine::RequestSpec image_request(int32_t hidden, int32_t w, int32_t h, uint64_t seed,
                                         int32_t text_before = 6, int32_t text_after = 10,
                                         int32_t max_new = 6, uint64_t text_seed = 0) {
  engine::RequestSpec s;
  s.prompt.push_back(1);
  const uint64_t ts = text_seed != 0 ? text_seed : seed;
  for (int32_t i = 1; i < text_before + text_after; ++i) {
    s.prompt.push_back(static_cast<int32_t>(300 + (ts * 37 + i * 11) % 3000));
  }
  engine::ImageInput im;
  im.grid_w = w;
  im.grid_h = h;
  im.embeddings = std::make_shared<const std::vector<float>>(
      engine::generate_image_embeddings(w, h, hidden, 0.02f, seed));
  engine::place_image(s, text_before, std::move(im), hidden);
  s.max_new_tokens = max_new;
  s.ignore_eos = true;
  return s;
}

inline engine::RequestSpec text_request(int32_t len, uint64_t seed, int32_t max_new = 6) {
  engine::RequestSpec s;
  s.prompt.push_back(1);
  for (int32_t i = 1; i < len; ++i) {
    s.prompt.push_back(static_cast<int32_t>(500 + (seed * 53 + i * 7) % 3000));
  }
  s.max_new_tokens = max_new;
  s.ignore_eos = true;
  return s;
}

}  // namespace bricks::testing
