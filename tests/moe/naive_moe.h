// A deliberately plain Mixtral-style forward pass (loops only, double accumulation) over
// an f32 MoE model: per token softmax over the router gate, the top-k experts (ties to
// the lower id) renormalised, each chosen expert as three dense matvecs.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "naive_llama.h"

namespace bricks::testing {

class NaiveMoe : public NaiveLlama {
 public:
  explicit NaiveMoe(const model::Model& m) : NaiveLlama(m) {}

  // The MoE FFN of layer `layer` for one normalised input row.
  std::vector<double> ffn(int layer, const std::vector<double>& h) const override {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const int E = c_.n_experts, k = c_.n_experts_used, d = c_.hidden, f = c_.ffn;
    std::vector<double> logit = matvec(w(p + "ffn_gate_inp.weight"), h, E);
    const double top = *std::max_element(logit.begin(), logit.end());
    double total = 0;
    for (double& x : logit) total += x = std::exp(x - top);
    std::vector<bool> taken(E, false);
    std::vector<int> ids;
    std::vector<double> weights;
    for (int i = 0; i < k; ++i) {
      int best = -1;
      for (int e = 0; e < E; ++e) {
        if (!taken[e] && (best < 0 || logit[e] > logit[best])) best = e;
      }
      taken[best] = true;
      ids.push_back(best);
      weights.push_back(logit[best] / total);
    }
    double kept = 0;
    for (double x : weights) kept += x;
    std::vector<double> out(d, 0.0);
    for (int i = 0; i < k; ++i) {
      const size_t off = static_cast<size_t>(ids[i]) * f * d;
      auto g = matvec(w(p + "ffn_gate_exps.weight") + off, h, f);
      auto u = matvec(w(p + "ffn_up_exps.weight") + off, h, f);
      for (int j = 0; j < f; ++j) g[j] = g[j] / (1.0 + std::exp(-g[j])) * u[j];
      auto y = matvec(w(p + "ffn_down_exps.weight") + off, g, d);
      for (int j = 0; j < d; ++j) out[j] += weights[i] / kept * y[j];
    }
    return out;
  }
};

}  // namespace bricks::testing
