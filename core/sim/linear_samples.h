// Measured per-layer times of the linear layers of a model on a GPU, from Vidur's operator
// profiles (one CSV per model, every tensor-parallel degree in it): what the cost model's
// GEMM constants are fitted to and checked against (cost_fit.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/model_presets.h"

namespace bricks::sim {

// The mean of the measured times of one (model, tp, tokens) point.
struct LinearSample {
  std::string model;    // the CSV's name without its directory and .csv
  ModelSpec shape;      // one decoder layer of the model, from the CSV's shape columns
  int32_t tp = 1;       // tensor-parallel degree: each GPU holds 1/tp of every matrix
  int64_t tokens = 0;   // tokens in the batch
  double linear_s = 0;  // qkv + o + gate/up + down projections of one layer, per GPU
  double other_s = 0;   // rope, activation, 2 norms, 2 residual adds; 0 if not measured
};

// Reads one CSV with the header num_tokens, tp, attn_pre_proj_ms, attn_post_proj_ms,
// mlp_up_proj_ms, mlp_down_proj_ms, n_head, n_kv_head, n_embd, n_expanded_embd (any order,
// other columns allowed; attn_rope_ms, mlp_act_ms, input_layernorm_ms and add_ms fill
// other_s). Rows that repeat a (tokens, tp) are averaged. Samples come sorted by tp, then
// tokens. Throws SimError "<file>:<line>: <what>; <fix>" for the first bad line.
std::vector<LinearSample> load_linear_samples(const std::filesystem::path& csv);

}  // namespace bricks::sim
