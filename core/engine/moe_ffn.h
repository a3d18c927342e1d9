// The FFN of a mixture-of-experts layer (Mixtral): gate logits = ffn_gate_inp h, the
// router brick picks top_k experts and their weights per token, and every expert runs
// once over the tokens routed to it (GroupedFfn); the output is the weighted sum.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/grouped_ffn.h"
#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/router_calls.h"

namespace bricks::engine {

class MoeFfn final : public LayerFfn {
 public:
  // `weights` (MoE layers: gate_inp and experts loaded) and the router brick must outlive
  // this object. Throws std::invalid_argument when the model has no experts.
  MoeFfn(const LlamaWeights& weights, const host::BrickInstance& router);

  void forward(int32_t layer, const float* h, int64_t rows, float* out) override;

  // Tokens each expert ran in the last forward (tests, statistics).
  const std::vector<int64_t>& last_counts() const { return grouped_.last_counts(); }

 private:
  const LlamaWeights& w_;
  RouterCalls router_;
  GroupedFfn grouped_;
  std::vector<FfnGroup> groups_;
  std::vector<float> logits_, route_weights_;
  std::vector<int32_t> ids_;
};

}  // namespace bricks::engine
