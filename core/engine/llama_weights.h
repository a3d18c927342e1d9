// The Llama-family weights as the cpu device runs them: one prepared cpu::Linear per
// projection (repacked once at load), norms as f32 vectors, embeddings as a view.
// Mixture-of-experts layers (config.n_experts > 0, Mixtral layout) have no dense FFN: each
// expert's gate/up/down is a cpu::Linear over its slice of the ffn_*_exps tensors and
// ffn_gate_inp is the router's gate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "bricks/model/model.h"

namespace bricks::engine {

// One expert FFN of a MoE layer: gate and up [ffn][hidden], down [hidden][ffn].
struct ExpertWeights {
  std::unique_ptr<cpu::Linear> gate, up, down;
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  std::unique_ptr<cpu::Linear> wq, wk, wv, wo;
  std::unique_ptr<cpu::Linear> w_gate, w_up, w_down;  // null in MoE layers
  std::unique_ptr<cpu::Linear> gate_inp;             // MoE: [n_experts][hidden]; else null
  std::vector<ExpertWeights> experts;                 // MoE: [n_experts]; else empty
};

struct LlamaWeights {
  model::LlamaConfig config;
  // The bf16 copies of f16 matrices made at load for bf16 compute (null when none).
  std::unique_ptr<cpu::WeightArena> arena;
  cpu::WeightView token_embd{};
  std::vector<float> output_norm;
  std::unique_ptr<cpu::Linear> output;
  std::vector<LayerWeights> layers;
  std::string compute_path;  // which kernels run, for reports
  std::string weight_types;  // the matrices' types by share of bytes ("q4_k 80%, q6_k 20%")

  // How load() prepares the weights besides the compute mode.
  struct LoadOptions {
    // The layers whose matrices are read from the file during the forward pass
    // (weight_stream.h): their views name the mapping, which is then never read.
    std::vector<bool> streamed;
    // Leave the resident weights in the file's pages rather than moving them to huge pages.
    bool file_pages = false;
    // Hold the q8_0 matrices that fit it in the lane layout (cpu/weight_lanes.h), where the
    // CPU and compute mode run it (cpu::lanes_layout_fits): faster batched decode, slower
    // batch 1. The k-quant ones that fit go there always.
    bool q8_lanes = false;
  };

  // Prepares every tensor of `m` for `compute`. Throws model::ModelError naming a tensor
  // whose type the cpu device cannot run. The resident matrices go to huge pages
  // (cpu::prefault_huge) unless `file_pages`. With bf16 compute, the resident f16 matrices are
  // converted to bf16 into `arena`; the q4_K matrices that the lane layout fits, and with
  // `q8_lanes` the q8_0 ones, are repacked there. Their file pages are given back.
  static LlamaWeights load(const model::Model& m, cpu::Compute compute, const LoadOptions& options);
  static LlamaWeights load(const model::Model& m, cpu::Compute compute) {
    return load(m, compute, LoadOptions{});
  }
  // Bytes of weights read per decoded token (every linear once, one embedding row; in MoE
  // layers the router gate and n_experts_used experts).
  size_t bytes_per_token() const;
};

cpu::WeightView weight_view(const model::TensorView& t);
// Matrix `index` of a 3-d tensor (ne[2] counts them), e.g. one expert of ffn_up_exps.
cpu::WeightView weight_slice(const model::TensorView& t, int64_t index);

}  // namespace bricks::engine
