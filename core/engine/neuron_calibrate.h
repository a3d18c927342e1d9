// Calibration of neuron partitions: run the dense model on a prompt set, record which FFN
// neurons are active for each token, and cluster neurons that are active together into
// equal-size clusters (balanced k-means on the activation patterns).
//
// A neuron counts as active for a token when its |silu(gate) * up| is among the token's
// top `active_share` of that layer's neurons. Clusters have ffn / clusters neurons (the
// first ffn % clusters one more), so every cluster costs about the same.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/neuron_partition_file.h"

namespace bricks::engine {

class Engine;

struct CalibrationOptions {
  int32_t clusters = 32;           // per layer; 1 <= clusters <= ffn
  double active_share = 0.2;       // share of neurons counted active per token, (0, 1)
  int32_t max_tokens = 512;        // tokens per layer the clustering sees
  int32_t iterations = 12;         // k-means rounds (stops early when nothing moves)
  uint64_t seed = 1;               // initial centroids
  std::vector<std::string> prompts;  // empty: builtin_calibration_prompts()
};

// What the calibration saw, beside the partition it made.
struct CalibrationResult {
  NeuronPartition partition;
  int32_t tokens = 0;  // tokens recorded per layer
  // Mean over tokens and layers of the share of neurons that hold 90 % of the token's
  // activation mass (sum of |silu(gate) * up|): small when activations are sparse.
  double mass90_share = 0.0;
  // Mean share of a cluster's neurons active when the cluster is "on" (holds at least one
  // active neuron), against active_share for a random grouping: how well the clusters
  // group co-active neurons.
  double cluster_purity = 0.0;
};

// Sentences of plain English prose used when no prompt file is given.
const std::vector<std::string>& builtin_calibration_prompts();

// Records per token, per layer, which neurons are active while computing the dense FFN
// (as LlamaForward would). Install it on every layer of a dense model's forward pass.
class ActivationRecorder final : public LayerFfn {
 public:
  ActivationRecorder(const LlamaWeights& w, double active_share, int32_t max_tokens);
  void forward(int32_t layer, const float* h, int64_t rows, float* out) override;

  // [layer] -> tokens x ffn flags (1 = active), row per token.
  const std::vector<std::vector<uint8_t>>& active() const { return active_; }
  int32_t tokens(int32_t layer) const;
  double mass90_share() const;

 private:
  const LlamaWeights& w_;
  double share_;
  int32_t max_tokens_;
  std::vector<std::vector<uint8_t>> active_;
  std::vector<float> gate_, up_, mag_;
  double mass_sum_ = 0.0;
  int64_t mass_count_ = 0;
};

// Balanced k-means of the neurons of one layer on their activation patterns
// (active[tokens][ffn]). Deterministic for a given seed.
LayerPartition cluster_neurons(const std::vector<uint8_t>& active, int32_t tokens, int32_t ffn,
                               int32_t clusters, int32_t iterations, uint64_t seed);

// Runs `dense` (an engine on the cpu device over the dense model `weights`, without routed
// FFNs) on the prompts, encoded by `tokenizer`, and clusters every layer. `progress` gets one line
// per stage. Throws PartitionError on bad options or when the prompts give no tokens.
CalibrationResult calibrate_partition(Engine& dense, const LlamaWeights& weights,
                                      const model::Tokenizer* tokenizer,
                                      const CalibrationOptions& options,
                                      const std::function<void(const std::string&)>& progress);

}  // namespace bricks::engine
