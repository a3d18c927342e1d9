#include "engine/moe_ffn.h"

#include <stdexcept>
#include <string>

namespace bricks::engine {

MoeFfn::MoeFfn(const LlamaWeights& weights, const host::BrickInstance& router)
    : w_(weights), router_(router) {
  if (weights.config.n_experts <= 0 || weights.config.n_experts_used <= 0) {
    throw std::invalid_argument("MoeFfn: the model has no experts (expert_count " +
                                std::to_string(weights.config.n_experts) + ")");
  }
}

void MoeFfn::forward(int32_t layer, const float* h, int64_t rows, float* out) {
  if (rows == 0) return;
  const LayerWeights& L = w_.layers.at(static_cast<size_t>(layer));
  if (L.gate_inp == nullptr || L.experts.empty()) {
    throw std::logic_error("MoeFfn: layer " + std::to_string(layer) + " has no experts loaded");
  }
  const int32_t E = w_.config.n_experts;
  const int32_t k = w_.config.n_experts_used;
  const int64_t d = w_.config.hidden;
  logits_.resize(static_cast<size_t>(rows * E));
  L.gate_inp->forward(h, rows, logits_.data());

  router_.route_rows(layer, h, rows, d, logits_.data(), E, k, ids_, route_weights_);

  groups_.clear();
  for (const ExpertWeights& e : L.experts) groups_.push_back({e.gate.get(), e.up.get(), e.down.get()});
  grouped_.forward(groups_, h, rows, d, ids_.data(), route_weights_.data(), k,
                   GroupMix::kWeighted, out);
}

}  // namespace bricks::engine
