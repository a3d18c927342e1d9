// The Llama-family weights as the cpu device runs them: one prepared cpu::Linear per
// projection (repacked once at load), norms as f32 vectors, embeddings as a view.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "bricks/model/model.h"

namespace bricks::engine {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  std::unique_ptr<cpu::Linear> wq, wk, wv, wo;
  std::unique_ptr<cpu::Linear> w_gate, w_up, w_down;
};

struct LlamaWeights {
  model::LlamaConfig config;
  cpu::WeightView token_embd{};
  std::vector<float> output_norm;
  std::unique_ptr<cpu::Linear> output;
  std::vector<LayerWeights> layers;
  std::string compute_path;  // which kernels run, for reports

  // Prepares every tensor of `m` for `compute`. Throws model::ModelError naming a tensor
  // whose type the cpu device cannot run.
  static LlamaWeights load(const model::Model& m, cpu::Compute compute);
  // Bytes of weights read per decoded token (every linear once, one embedding row).
  size_t bytes_per_token() const;
};

cpu::WeightView weight_view(const model::TensorView& t);

}  // namespace bricks::engine
