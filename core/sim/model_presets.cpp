#include "sim/model_presets.h"

#include "sim/preset_names.h"
#include "sim/preset_text.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim_presets.pb.h"

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

std::vector<ModelSpec> make_model_presets() {
  return parse_shipped_presets<ModelSpec>("models", kModelPresetNames, parse_model_preset);
}

}  // namespace

ModelSpec parse_model_preset(const std::string& text, const std::string& file) {
  ModelPreset p;
  const PresetText t(text, file, "model preset", p);
  t.require("name", "give the name reports show, e.g. name: \"llama-2-7b\"");
  const char* fix = "give the value of the model's config.json";
  const std::pair<const char*, int32_t> required[] = {
      {"layers", p.layers()}, {"hidden", p.hidden()}, {"heads", p.heads()},
      {"ffn", p.ffn()},       {"vocab", p.vocab()},   {"context", p.context()}};
  for (const auto& [field, value] : required) {
    t.require(field, fix);
    t.positive(field, value, fix);
  }
  for (const auto& [field, value] :
       {std::pair{"kv_heads", p.kv_heads()}, std::pair{"head_dim", p.head_dim()},
        std::pair{"learned_positions", p.learned_positions()},
        std::pair{"weight_bytes", p.weight_bytes()}}) {
    if (value < 0) t.fail(field, std::to_string(value) + " is out of range", "give 0 or more");
  }
  if (p.hidden() % p.heads() != 0 && p.head_dim() == 0) {
    t.fail("heads",
           std::to_string(p.heads()) + " does not divide hidden " + std::to_string(p.hidden()),
           "give head_dim as well");
  }
  const int32_t kv_heads = p.kv_heads() > 0 ? p.kv_heads() : p.heads();
  if (p.heads() % kv_heads != 0) {
    t.fail("kv_heads",
           std::to_string(kv_heads) + " does not divide heads " + std::to_string(p.heads()),
           "give a divisor of heads (grouped-query attention)");
  }
  if (!p.arch().empty() && p.arch() != "llama" && p.arch() != "opt") {
    t.fail("arch", "'" + p.arch() + "' is not supported", "give \"llama\" or \"opt\"");
  }
  if (!p.ffn_form().empty() && p.ffn_form() != "gated" && p.ffn_form() != "plain") {
    t.fail("ffn_form", "'" + p.ffn_form() + "' is not supported",
           "give \"gated\" (SwiGLU) or \"plain\" (two matrices)");
  }
  ModelSpec m;
  m.name = p.name();
  model::LlamaConfig& c = m.config;
  c.arch = p.arch().empty() ? "llama" : p.arch();
  c.name = p.name();
  c.n_layers = p.layers();
  c.hidden = p.hidden();
  c.n_heads = p.heads();
  c.n_kv_heads = kv_heads;
  c.head_dim = p.head_dim() > 0 ? p.head_dim() : p.hidden() / p.heads();
  c.ffn = p.ffn();
  c.vocab_size = p.vocab();
  c.context_length = p.context();
  c.tied_embeddings = p.tied_embeddings();
  m.gated_ffn = p.ffn_form() != "plain";
  m.biases = p.biases();
  m.learned_positions = p.learned_positions();
  m.weight_bytes = p.weight_bytes() > 0 ? p.weight_bytes() : 2;
  return m;
}

ModelSpec load_model(const std::string& name_or_path, const std::filesystem::path& base) {
  for (const ModelSpec& m : model_presets()) {
    if (m.name == name_or_path) return m;
  }
  const PresetSource src = find_preset("models", name_or_path, base, "model preset");
  return parse_model_preset(src.text, src.file);
}

const std::vector<ModelSpec>& model_presets() {
  static const std::vector<ModelSpec> presets = make_model_presets();
  return presets;
}

const ModelSpec& model_preset(std::string_view name) {
  for (const ModelSpec& m : model_presets()) {
    if (m.name == name) return m;
  }
  throw SimError("unknown model preset '" + std::string(name) + "'; use one of " +
                 shipped_names("models"));
}

}  // namespace bricks::sim
