#include "engine/router_calls.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace bricks::engine {

RouterCalls::RouterCalls(const host::BrickInstance& b)
    : vt_(b.vtable<bricks_router_vtable>()),
      inst_(b.instance()),
      name_(std::string(host::kind_name(b.kind())) + "/" + b.info().name) {}

void RouterCalls::route_rows(int32_t layer, const float* h, int64_t rows, int64_t hidden,
                             const float* scores, int32_t num_experts, int32_t top_k,
                             std::vector<int32_t>& ids, std::vector<float>& weights) const {
  ids.resize(static_cast<size_t>(rows * top_k));
  weights.resize(ids.size());
  bricks_route_input in{};
  in.struct_size = sizeof(in);
  in.layer = layer;
  in.num_tokens = static_cast<int32_t>(rows);
  in.hidden_dim = static_cast<int32_t>(hidden);
  in.hidden = h;
  in.gate_logits = scores;
  in.num_experts = num_experts;
  in.top_k = top_k;
  bricks_route_output out{ids.data(), weights.data()};
  route(in, out);
}

void RouterCalls::route(const bricks_route_input& in, bricks_route_output& out) const {
  host::check(vt_->route(inst_, &in, &out), name_ + " route");
  const int32_t k = in.top_k;
  const auto fail = [&](int64_t t, int32_t i, const std::string& what) {
    throw std::runtime_error(name_ + " route: token " + std::to_string(t) + " choice " +
                             std::to_string(i) + " (layer " + std::to_string(in.layer) +
                             "): " + what);
  };
  seen_.assign(static_cast<size_t>(in.num_experts), 0);
  for (int64_t t = 0; t < in.num_tokens; ++t) {
    for (int32_t i = 0; i < k; ++i) {
      const int32_t id = out.expert_ids[t * k + i];
      const float w = out.weights[t * k + i];
      if (id < 0 || id >= in.num_experts) {
        fail(t, i, "expert id " + std::to_string(id) + " is outside [0, " +
                       std::to_string(in.num_experts) + ")");
      }
      if (seen_[static_cast<size_t>(id)] != 0) {
        fail(t, i, "expert " + std::to_string(id) + " chosen twice");
      }
      if (!(w >= 0.0f) || !std::isfinite(w)) {
        fail(t, i, "weight " + std::to_string(w) + " is negative or not finite");
      }
      seen_[static_cast<size_t>(id)] = 1;
    }
    for (int32_t i = 0; i < k; ++i) seen_[static_cast<size_t>(out.expert_ids[t * k + i])] = 0;
  }
}

}  // namespace bricks::engine
