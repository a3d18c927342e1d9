// router/topk: per token, softmax over the gate logits, the top_k experts by probability
// (ties to the lower id), optionally renormalised to sum to 1. Mixtral routes this way
// with 8 experts and top_k 2.
//
// Thread safety: one host thread at a time (abi.h rule); route keeps no state.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"

namespace {

using bricks::Error;

class TopK final : public bricks::Router {
 public:
  TopK(const bricks::Host& host, const bricks::Params& params)
      : Router(host),
        top_k_(static_cast<int32_t>(params.get_int("top_k"))),
        renormalize_(params.get_bool("renormalize")) {
    if (top_k_ < 0) throw Error::invalid("router topk: top_k must be >= 0 (0: the model's)");
  }

  void route(const bricks_route_input& in, bricks_route_output& out) override {
    const int32_t k = check(in);
    if (in.num_tokens > 0 && (out.expert_ids == nullptr || out.weights == nullptr)) {
      throw Error::invalid("router topk: output expert_ids and weights must be set");
    }
    const int32_t n = in.num_experts;
    std::vector<double> prob(static_cast<size_t>(n));
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int32_t t = 0; t < in.num_tokens; ++t) {
      const float* logits = in.gate_logits + int64_t{t} * n;
      const double top = *std::max_element(logits, logits + n);
      double total = 0.0;
      for (int32_t e = 0; e < n; ++e) {
        prob[e] = std::exp(double{logits[e]} - top);
        total += prob[e];
      }
      for (int32_t e = 0; e < n; ++e) {
        order[e] = e;
        prob[e] /= total;
      }
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        return prob[a] != prob[b] ? prob[a] > prob[b] : a < b;
      });
      double kept = 0.0;
      for (int32_t i = 0; i < k; ++i) kept += prob[order[i]];
      const double norm = renormalize_ && kept > 0.0 ? kept : 1.0;
      for (int32_t i = 0; i < k; ++i) {
        out.expert_ids[int64_t{t} * k + i] = order[i];
        out.weights[int64_t{t} * k + i] = static_cast<float>(prob[order[i]] / norm);
      }
    }
  }

 private:
  // Returns the k to use; throws with the field and the fix on bad input.
  int32_t check(const bricks_route_input& in) const {
    if (in.num_tokens < 0) throw Error::invalid("router topk: num_tokens is negative");
    if (in.num_experts < 1) throw Error::invalid("router topk: num_experts must be >= 1");
    if (in.num_tokens > 0 && in.gate_logits == nullptr) {
      throw Error::invalid("router topk: needs gate_logits (the model's router gate); got none");
    }
    if (top_k_ != 0 && top_k_ != in.top_k) {
      throw Error::invalid("router topk: param top_k=" + std::to_string(top_k_) +
                           " but the output holds top_k=" + std::to_string(in.top_k) +
                           " per token; set top_k to 0 (the model's) or make the host pass it");
    }
    if (in.top_k < 1 || in.top_k > in.num_experts) {
      throw Error::invalid("router topk: top_k " + std::to_string(in.top_k) +
                           " must be in [1, num_experts=" + std::to_string(in.num_experts) + "]");
    }
    for (int64_t i = 0; i < int64_t{in.num_tokens} * in.num_experts; ++i) {
      if (!std::isfinite(in.gate_logits[i])) {
        throw Error::invalid("router topk: gate logit of token " +
                             std::to_string(i / in.num_experts) + " is not finite");
      }
    }
    return in.top_k;
  }

  const int32_t top_k_;
  const bool renormalize_;
};

const bricks_param_spec kParams[] = {
    bricks::param_int("top_k", 0, 0, 1024, "Experts per token; 0 uses the model's top_k."),
    bricks::param_bool("renormalize", true,
                       "Rescale the chosen experts' weights to sum to 1 (Mixtral does)."),
};

}  // namespace

BRICKS_PLUGIN("bricks_router_topk", "1.0.0", "Apache-2.0",
              bricks::describe<TopK>("topk", "1.0.0",
                                     "Softmax top-k expert routing per token (Mixtral).")
                  .params(kParams))
