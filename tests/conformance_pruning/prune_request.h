// Requests for pruning bricks: a text prefix, an image of grid_w x grid_h patches (the
// prunable tokens) and a text suffix, with seeded random scores. Shared by the pruning
// conformance suite and the shipped pruning bricks' own rules.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "bricks/abi.h"

namespace bricks::testing {

// A request: text prefix, an image of grid_w x grid_h patches, text suffix (the queries).
struct Request {
  std::vector<uint8_t> prunable;
  std::vector<int32_t> grid_xy;
  std::vector<float> text_scores;
  std::vector<float> self_scores;
  std::vector<float> hidden;
  int32_t grid_w = 0, grid_h = 0;
  bricks_prune_input input{};
};

inline std::unique_ptr<Request> make_request(int32_t prefix, int32_t grid_w, int32_t grid_h,
                                             int32_t suffix, uint64_t seed,
                                             bool tied_scores = false) {
  auto r = std::make_unique<Request>();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int32_t patches = grid_w * grid_h;
  const int32_t n = prefix + patches + suffix;
  r->grid_w = grid_w;
  r->grid_h = grid_h;
  for (int32_t i = 0; i < n; ++i) {
    const bool patch = i >= prefix && i < prefix + patches;
    r->prunable.push_back(patch ? 1 : 0);
    r->grid_xy.push_back(patch ? (i - prefix) % grid_w : -1);
    r->grid_xy.push_back(patch ? (i - prefix) / grid_w : -1);
    r->text_scores.push_back(tied_scores ? 0.25f : u(rng));
  }
  r->self_scores.resize(static_cast<size_t>(patches) * patches);
  for (auto& s : r->self_scores) s = u(rng) / static_cast<float>(std::max(1, patches));
  const int32_t hidden_dim = 8;
  r->hidden.resize(static_cast<size_t>(n) * hidden_dim);
  for (auto& h : r->hidden) h = u(rng) - 0.5f;
  bricks_prune_input& in = r->input;
  in.struct_size = sizeof(in);
  in.request_id = seed;
  in.layer = 3;
  in.num_layers = 32;
  in.num_tokens = n;
  in.prunable = r->prunable.data();
  in.grid_xy = r->grid_xy.data();
  in.grid_w = grid_w;
  in.grid_h = grid_h;
  in.text_scores = r->text_scores.data();
  in.self_scores = r->self_scores.data();
  in.hidden = r->hidden.data();
  in.hidden_dim = hidden_dim;
  return r;
}

}  // namespace bricks::testing
