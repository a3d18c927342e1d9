// A dense FFN split into neuron clusters (a NeuronPartition) of which each token runs only
// the ones a router brick picks. At load the layer's gate/up rows and down columns are
// copied in cluster order, so every cluster is one contiguous [n][hidden] gate/up and one
// [hidden][n] down matrix: one GEMM per cluster over the tokens routed to it.
//
// Cluster scores (the router's gate_logits): the mean gate row of each cluster applied to
// the token's normalised input. A SwiGLU neuron's |silu(g) * u| is large mostly when its
// gate g is large and positive, and calibration grouped neurons that are active together,
// so a cluster whose mean gate is high is likely active.
//
// The router returns every cluster in order with a weight; a cluster runs for a token
// when its weight is > 0, and the clusters' outputs add up unweighted (the dense FFN is
// the plain sum over its neurons), so with every cluster picked the result is the dense
// FFN's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/grouped_ffn.h"
#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/neuron_partition_file.h"
#include "engine/router_calls.h"

namespace bricks::engine {

class NeuronFfn final : public LayerFfn {
 public:
  // Prepares the layers in `layers` (every layer when empty) of the dense model `m`
  // (whose prepared weights are `w`) from partition `p` (checked for `m` already). `m`,
  // `w` and the router must outlive this object. Throws std::invalid_argument for a layer
  // out of range or a MoE model.
  NeuronFfn(const model::Model& m, const LlamaWeights& w, const NeuronPartition& p,
            const std::vector<int32_t>& layers, const host::BrickInstance& router);
  ~NeuronFfn() override;

  void forward(int32_t layer, const float* h, int64_t rows, float* out) override;

  int32_t clusters() const { return clusters_; }
  const std::vector<int32_t>& layers() const { return covered_; }
  // Cluster runs / (tokens x clusters) over every forward so far: the share of the FFN
  // that ran.
  double active_share() const;
  // Bytes of the cluster-ordered weight copies.
  size_t weight_bytes() const;

 private:
  struct Layer;

  const LlamaWeights& w_;
  int32_t clusters_;
  RouterCalls router_;
  std::vector<std::unique_ptr<Layer>> layers_;  // [n_layers], null where not covered
  std::vector<int32_t> covered_;
  GroupedFfn grouped_;
  std::vector<float> scores_, route_weights_;
  std::vector<int32_t> ids_;
  int64_t runs_ = 0, slots_ = 0;
};

}  // namespace bricks::engine
