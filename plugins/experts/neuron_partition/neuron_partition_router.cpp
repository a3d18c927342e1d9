// router/neuron_partition: routes each token to the neuron clusters of a dense FFN with
// the highest scores (the host's per-cluster predictor, passed as gate_logits) and lets
// it skip the rest.
//
// Output contract (the host asks for top_k = every cluster): the clusters in descending
// score order (ties to the lower id); the first n get weight 1/n, the others weight 0,
// which tells the host not to run them. n = top_k when that param is set, else
// round(active_share * clusters), at least 1 and at most the top_k the host asked for.
// The host adds the chosen clusters' outputs unweighted (they are parts of one FFN), so
// the weights are a mask that still sums to 1 like any router's.
//
// Thread safety: one host thread at a time (abi.h rule); route keeps no state.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"

namespace {

using bricks::Error;

class NeuronPartition final : public bricks::Router {
 public:
  NeuronPartition(const bricks::Host& host, const bricks::Params& params)
      : Router(host),
        top_k_(static_cast<int32_t>(params.get_int("top_k"))),
        share_(params.get_float("active_share")) {}

  void route(const bricks_route_input& in, bricks_route_output& out) override {
    check(in);
    if (in.num_tokens > 0 && (out.expert_ids == nullptr || out.weights == nullptr)) {
      throw Error::invalid("router neuron_partition: output expert_ids and weights must be set");
    }
    const int32_t C = in.num_experts, k = in.top_k;
    const int32_t active = active_count(C, k);
    const float w = 1.0f / static_cast<float>(active);
    std::vector<int32_t> order(static_cast<size_t>(C));
    for (int32_t t = 0; t < in.num_tokens; ++t) {
      const float* s = in.gate_logits + int64_t{t} * C;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [s](int32_t a, int32_t b) {
        return s[a] != s[b] ? s[a] > s[b] : a < b;
      });
      for (int32_t i = 0; i < k; ++i) {
        out.expert_ids[int64_t{t} * k + i] = order[static_cast<size_t>(i)];
        out.weights[int64_t{t} * k + i] = i < active ? w : 0.0f;
      }
    }
  }

 private:
  int32_t active_count(int32_t clusters, int32_t k) const {
    const int64_t n = top_k_ > 0 ? top_k_
                                 : std::llround(share_ * static_cast<double>(clusters));
    return static_cast<int32_t>(std::clamp<int64_t>(n, 1, k));
  }

  static void check(const bricks_route_input& in) {
    if (in.num_tokens < 0) throw Error::invalid("router neuron_partition: num_tokens is negative");
    if (in.num_experts < 1) {
      throw Error::invalid("router neuron_partition: num_experts (clusters) must be >= 1");
    }
    if (in.top_k < 1 || in.top_k > in.num_experts) {
      throw Error::invalid("router neuron_partition: top_k " + std::to_string(in.top_k) +
                           " must be in [1, num_experts=" + std::to_string(in.num_experts) +
                           "]");
    }
    if (in.num_tokens > 0 && in.gate_logits == nullptr) {
      throw Error::invalid("router neuron_partition: needs per-cluster scores as gate_logits; "
                           "got none");
    }
    for (int64_t i = 0; i < int64_t{in.num_tokens} * in.num_experts; ++i) {
      if (std::isnan(in.gate_logits[i])) {
        throw Error::invalid("router neuron_partition: score of token " +
                             std::to_string(i / in.num_experts) + " is NaN");
      }
    }
  }

  const int32_t top_k_;
  const double share_;
};

const bricks_param_spec kParams[] = {
    bricks::param_float("active_share", 0.5, 0.0, 1.0,
                        "Share of the clusters each token runs (rounded, at least one)."),
    bricks::param_int("top_k", 0, 0, 65536,
                      "Clusters each token runs; overrides active_share when > 0."),
    bricks::param_int("clusters", 32, 1, 65536,
                      "Clusters per FFN when the model has no partition file yet and the "
                      "host calibrates one; a partition file with another count is refused "
                      "when this is set."),
};

}  // namespace

BRICKS_PLUGIN("bricks_router_neuron_partition", "1.0.0", "Apache-2.0",
              bricks::describe<NeuronPartition>(
                  "neuron_partition", "1.0.0",
                  "Routes tokens to the top-scoring neuron clusters of a dense FFN; the "
                  "host skips the rest.")
                  .params(kParams))
