// The router brick's vtable as the engine calls it: every call checks the returned
// bricks_error* and throws host::BrickError naming the brick, and the output is checked
// against the experts contract, so a broken router fails the step with a clear message
// instead of indexing out of bounds.
//
// Thread safety: one thread at a time (route keeps scratch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "host/registry.h"

namespace bricks::engine {

class RouterCalls {
 public:
  explicit RouterCalls(const host::BrickInstance& b);

  // Routes in.num_tokens tokens into out ([num_tokens][top_k] ids and weights, host-owned).
  // Throws host::BrickError when the brick fails, std::runtime_error naming the brick, the
  // token and the value when an id is out of range or repeated, or a weight is negative or
  // not finite.
  void route(const bricks_route_input& in, bricks_route_output& out) const;
  // route() for the `rows` tokens of layer `layer`: `h` [rows][hidden] their inputs,
  // `scores` [rows][num_experts] the gate's; `ids` and `weights` are resized to
  // [rows][top_k] and filled.
  void route_rows(int32_t layer, const float* h, int64_t rows, int64_t hidden, const float* scores,
                  int32_t num_experts, int32_t top_k, std::vector<int32_t>& ids,
                  std::vector<float>& weights) const;

  const std::string& name() const { return name_; }

 private:
  const bricks_router_vtable* vt_;
  void* inst_;
  std::string name_;
  mutable std::vector<char> seen_;  // scratch of route(): ids taken by the current token
};

}  // namespace bricks::engine
