// A Model over a mapped GGUF file: the llama.* keys give the config, tensors stay mapped.
#include <cmath>
#include <limits>

#include "bricks/model/gguf.h"
#include "loaders.h"

namespace bricks::model {
namespace {

class GgufModel final : public Model {
 public:
  explicit GgufModel(const std::filesystem::path& path) {
    path_ = path;
    file_ = GgufFile::open(path);
    read_config();
    const auto file = std::make_shared<const std::filesystem::path>(path);
    for (const GgufTensorInfo& ti : file_->tensors()) {
      tensors_.push_back({ti.name, ti.dtype, ti.ne, file_->tensor_data(ti),
                          static_cast<size_t>(ti.nbytes), file, file_->data_offset() + ti.offset});
    }
    index_tensors();
    config_.tied_embeddings = find("output.weight") == nullptr;
    if (config_.vocab_size == 0) {
      if (const TensorView* t = find("token_embd.weight"); t != nullptr && t->ne.size() == 2) {
        config_.vocab_size = static_cast<int32_t>(t->ne[1]);
      }
    }
    validate();
    tokenizer_ = gguf_tokenizer(*file_);
    chat_template_ = file_->get_string("tokenizer.chat_template").value_or("");
    if (tokenizer_ && tokenizer_->vocab_size() != config_.vocab_size) {
      throw ModelError(path_.string() + ": tokenizer has " +
                       std::to_string(tokenizer_->vocab_size()) + " tokens but the model's vocab "
                       "size is " + std::to_string(config_.vocab_size));
    }
  }

 private:
  int32_t get_i32(const std::string& key, bool required, int32_t fallback = 0) const {
    const auto v = file_->get_int(key);
    if (!v) {
      if (required) {
        throw ModelError(path_.string() + ": missing metadata key '" + key + "'");
      }
      return fallback;
    }
    if (*v < 0 || *v > std::numeric_limits<int32_t>::max()) {
      throw ModelError(path_.string() + ": key '" + key + "' = " + std::to_string(*v) +
                       " is out of range");
    }
    return static_cast<int32_t>(*v);
  }

  float get_f32(const std::string& key, float fallback) const {
    const auto v = file_->get_float(key);
    if (!v) return fallback;
    if (!std::isfinite(*v) || *v <= 0) {
      throw ModelError(path_.string() + ": key '" + key + "' = " + std::to_string(*v) +
                       " must be a positive number");
    }
    return static_cast<float>(*v);
  }

  void read_config() {
    LlamaConfig& c = config_;
    const auto arch = file_->get_string("general.architecture");
    if (!arch) throw ModelError(path_.string() + ": missing metadata key 'general.architecture'");
    if (*arch != "llama") {
      throw ModelError(path_.string() + ": key 'general.architecture' is '" + *arch +
                       "'; only 'llama' (Llama, Mistral, TinyLlama, Mixtral) is supported");
    }
    c.arch = *arch;
    c.name = file_->get_string("general.name").value_or("");
    const std::string p = c.arch + ".";
    c.hidden = get_i32(p + "embedding_length", true);
    c.n_layers = get_i32(p + "block_count", true);
    c.ffn = get_i32(p + "feed_forward_length", true);
    c.n_heads = get_i32(p + "attention.head_count", true);
    c.n_kv_heads = get_i32(p + "attention.head_count_kv", false, c.n_heads);
    c.context_length = get_i32(p + "context_length", false, 2048);
    c.n_experts = get_i32(p + "expert_count", false, 0);
    c.n_experts_used = get_i32(p + "expert_used_count", false, 0);
    c.rope_theta = get_f32(p + "rope.freq_base", 10000.f);
    c.rms_eps = get_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    if (c.n_heads == 0) throw ModelError(path_.string() + ": key '" + p + "attention.head_count' is 0");
    c.head_dim = get_i32(p + "attention.key_length", false, c.hidden / c.n_heads);
    c.vocab_size = get_i32(p + "vocab_size", false, 0);
    if (c.vocab_size == 0) {
      if (const GgufArray* toks = file_->get_array("tokenizer.ggml.tokens")) {
        c.vocab_size = static_cast<int32_t>(toks->items.size());
      }
    }
  }

  std::unique_ptr<GgufFile> file_;
};

}  // namespace

std::unique_ptr<Model> open_gguf(const std::filesystem::path& path) {
  return std::make_unique<GgufModel>(path);
}

}  // namespace bricks::model
