// Model shapes the sim device models: the published architectures of a few open models,
// as the engine's LlamaConfig plus what a cost model needs beyond it (FFN form, biases,
// weight bytes). Parameter counts are derived from the shape, never typed in. Each shape
// is a ModelPreset file (core/proto/sim_presets.proto); the shipped ones are
// core/sim/presets/models/*.textproto.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/model.h"

namespace bricks::sim {

struct ModelSpec {
  std::string name;           // preset name, e.g. "mistral-7b"
  model::LlamaConfig config;  // layers, hidden, heads, kv heads, head_dim, ffn, vocab, context
  // SwiGLU FFN (gate, up, down: 3 matrices); false: a plain 2-matrix FFN with ReLU (OPT).
  bool gated_ffn = true;
  // Biases on every linear layer and LayerNorm (OPT) instead of bias-free RMSNorm (Llama).
  bool biases = false;
  // Learned position embeddings (OPT: context + 2 rows); 0 with rotary positions.
  int32_t learned_positions = 0;
  int32_t weight_bytes = 2;  // bf16/fp16 weights

  // Weights of the linear layers of one decoder layer (attention q/k/v/o and the FFN),
  // biases included: what every token multiplies through.
  int64_t linear_params_per_layer() const;
  int64_t linear_params() const { return linear_params_per_layer() * config.n_layers; }
  // The output projection (vocab x hidden), whether or not it is tied to the embedding.
  int64_t lm_head_params() const;
  // Every weight once: layers, norms, embeddings, the output projection unless tied.
  int64_t total_params() const;
  int64_t weight_bytes_total() const { return total_params() * weight_bytes; }
  // K and V of one token over all layers.
  int64_t kv_bytes_per_token(int32_t element_bytes) const;
};

// Every shipped preset, in the order of kModelPresetNames.
const std::vector<ModelSpec>& model_presets();
// The shipped preset `name`; throws SimError listing the presets when there is none.
const ModelSpec& model_preset(std::string_view name);

// The model a ModelPreset text describes. Throws SimError "<file>:<line>: ..." naming the
// field and the fix for a syntax error, an unknown field, a missing field or a value out of
// range.
ModelSpec parse_model_preset(const std::string& text, const std::string& file);

// A shipped preset by name, or a ModelPreset file (a relative path against `base`, the
// manifest's directory). Throws SimError as find_preset and parse_model_preset do.
ModelSpec load_model(const std::string& name_or_path, const std::filesystem::path& base);

}  // namespace bricks::sim
