// Calling a router brick: one route() over seeded random logits, the answer as vectors.
// Shared by the router conformance suite and the shipped routers' own rules.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {

struct Routed {
  std::string error;
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

inline Routed route(const HarnessBrick& brick, const std::vector<float>& logits, int32_t tokens,
                    int32_t experts, int32_t top_k) {
  std::vector<float> hidden(static_cast<size_t>(tokens) * 4, 0.5f);
  const bricks_route_input in{
      sizeof(in), 0,    tokens, 4, hidden.data(), logits.empty() ? nullptr : logits.data(),
      experts,    top_k};
  Routed r;
  r.ids.assign(static_cast<size_t>(tokens) * top_k, -7);
  r.weights.assign(static_cast<size_t>(tokens) * top_k, -1.0f);
  bricks_route_output out{r.ids.data(), r.weights.data()};
  r.error = take_error(brick.vt<bricks_router_vtable>()->route(brick.instance(), &in, &out));
  return r;
}

inline std::vector<float> random_logits(int32_t tokens, int32_t experts, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 2.0f);
  std::vector<float> logits(static_cast<size_t>(tokens) * experts);
  for (auto& x : logits) x = n(rng);
  return logits;
}

}  // namespace bricks::testing
