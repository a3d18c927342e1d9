#include "sim/model_presets.h"

#include "sim/preset_names.h"
#include "sim/sim_error.h"

namespace bricks::sim {

int64_t ModelSpec::linear_params_per_layer() const {
  const model::LlamaConfig& c = config;
  const int64_t h = c.hidden;
  const int64_t q = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  int64_t attn = h * q + 2 * h * kv + q * h;
  int64_t ffn = (gated_ffn ? 3 : 2) * h * static_cast<int64_t>(c.ffn);
  if (biases) {
    attn += q + 2 * kv + h;
    ffn += c.ffn + h;
  }
  return attn + ffn;
}

int64_t ModelSpec::lm_head_params() const {
  return static_cast<int64_t>(config.vocab_size) * config.hidden;
}

int64_t ModelSpec::total_params() const {
  const int64_t h = config.hidden;
  // Two norms per layer and one final; LayerNorm has a bias as well as a scale.
  const int64_t norm = (biases ? 2 : 1) * h;
  const int64_t layers = (linear_params_per_layer() + 2 * norm) * config.n_layers + norm;
  const int64_t embed = lm_head_params() + static_cast<int64_t>(learned_positions) * h;
  return layers + embed + (config.tied_embeddings ? 0 : lm_head_params());
}

int64_t ModelSpec::kv_bytes_per_token(int32_t element_bytes) const {
  return 2ll * config.n_layers * config.n_kv_heads * config.head_dim * element_bytes;
}

namespace {

ModelSpec llama(const char* name, int32_t layers, int32_t hidden, int32_t heads, int32_t kv_heads,
                int32_t ffn, int32_t vocab, int32_t context) {
  ModelSpec m;
  m.name = name;
  model::LlamaConfig& c = m.config;
  c.arch = "llama";
  c.name = name;
  c.n_layers = layers;
  c.hidden = hidden;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.ffn = ffn;
  c.vocab_size = vocab;
  c.context_length = context;
  return m;
}

// Shapes from each model's published config.json (Hugging Face model cards).
std::vector<ModelSpec> make_model_presets() {
  std::vector<ModelSpec> p;
  p.push_back(llama("llama-2-7b", 32, 4096, 32, 32, 11008, 32000, 4096));
  p.push_back(llama("llama-2-13b", 40, 5120, 40, 40, 13824, 32000, 4096));
  p.push_back(llama("llama-2-70b", 80, 8192, 64, 8, 28672, 32000, 4096));
  // Mistral 7B v0.1. Its 4096-token sliding window is not modelled: attention on sim reads
  // the whole context, which overstates decode cost past 4096 tokens.
  p.push_back(llama("mistral-7b", 32, 4096, 32, 8, 14336, 32000, 32768));
  p.push_back(llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256, 8192));
  p.push_back(llama("llama-3-70b", 80, 8192, 64, 8, 28672, 128256, 8192));
  p.push_back(llama("yi-34b", 60, 7168, 56, 8, 20480, 64000, 4096));
  // OPT-13B: LayerNorm and biases, a 2-matrix ReLU FFN, learned positions (2048 + 2 rows)
  // and the output projection tied to the token embedding.
  ModelSpec opt = llama("opt-13b", 40, 5120, 40, 40, 20480, 50272, 2048);
  opt.config.arch = "opt";
  opt.config.tied_embeddings = true;
  opt.gated_ffn = false;
  opt.biases = true;
  opt.learned_positions = 2048 + 2;
  p.push_back(opt);
  return p;
}

}  // namespace

const std::vector<ModelSpec>& model_presets() {
  static const std::vector<ModelSpec> presets = make_model_presets();
  return presets;
}

const ModelSpec& model_preset(std::string_view name) {
  for (const ModelSpec& m : model_presets()) {
    if (m.name == name) return m;
  }
  std::string names;
  for (std::string_view n : kModelPresetNames) {
    names += (names.empty() ? "" : ", ") + std::string(n);
  }
  throw SimError("unknown model preset '" + std::string(name) + "'; use one of " + names);
}

}  // namespace bricks::sim
