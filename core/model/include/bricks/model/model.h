// A loaded Llama-family model: its configuration, its weights (mapped from the file, not
// copied) and its tokenizer. Opens GGUF files and Hugging Face safetensors directories.
//
// Weight layout (both formats): a linear weight has ne[0] = in_features (contiguous) and
// ne[1] = out_features; q and k rows are in the adjacent-pair RoPE layout (pairs (2i, 2i+1)
// of each head rotate together). safetensors q/k weights are permuted to this layout at load.
//
// Tensor names (GGUF's): token_embd.weight, output_norm.weight, output.weight (absent when
// tied to token_embd; find("output.weight") then returns the embedding), blk.N.attn_norm,
// attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down (".weight"),
// and for MoE blk.N.ffn_gate_inp.weight and blk.N.ffn_{gate,up,down}_exps.weight, whose
// ne[2] is the expert.
//
// Thread safety: a Model is immutable after open(); any thread may read it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/dtype.h"
#include "bricks/model/file_type.h"
#include "bricks/model/model_error.h"
#include "bricks/model/tokenizer.h"

namespace bricks::model {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> ne;  // GGUF order, ne[0] innermost
  const void* data = nullptr;
  size_t nbytes = 0;
  // Where the bytes lie unchanged in a file, for readers that go around the mapping (weight
  // streaming): the file and the offset of the tensor's first byte. Null when the bytes were
  // changed at load (safetensors q/k rows permuted, an overlay's replacement).
  std::shared_ptr<const std::filesystem::path> file;
  uint64_t file_offset = 0;
  int64_t numel() const;
};

struct LlamaConfig {
  std::string arch, name;
  int32_t vocab_size = 0, hidden = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0,
          ffn = 0, context_length = 0, n_experts = 0, n_experts_used = 0;
  float rope_theta = 10000.f, rms_eps = 1e-5f;
  bool tied_embeddings = false;
};

class Model {
 public:
  // Opens a GGUF file, a directory with *.safetensors + config.json (+ tokenizer.json), or a
  // .safetensors file (its directory is opened). Validates every tensor's presence, type and
  // shape against the configuration. Throws ModelError naming the file and the problem.
  static std::unique_ptr<Model> open(const std::filesystem::path& path);
  virtual ~Model();

  const LlamaConfig& config() const { return config_; }
  // nullptr when the model has no tensor of that name.
  const TensorView* find(std::string_view name) const;
  // Throws ModelError naming the tensor and the file when absent.
  const TensorView& tensor(std::string_view name) const;
  const std::vector<TensorView>& tensors() const { return tensors_; }
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  // Throws ModelError when the file carries no tokenizer.
  const Tokenizer& tokenizer() const;
  // The chat template the model file carries, as Jinja text (Hugging Face's format): GGUF's
  // `tokenizer.chat_template`; for a safetensors directory, chat_template.jinja beside the
  // weights, else the `chat_template` of tokenizer_config.json beside them (its "default"
  // entry when it is a list of named templates). Empty when the model carries none.
  const std::string& chat_template() const { return chat_template_; }
  const std::filesystem::path& path() const { return path_; }
  // Total bytes of all weights (the tied output counted once).
  uint64_t weight_bytes() const;

 protected:
  Model() = default;
  // Checks that every tensor the config implies is present with the right shape (and
  // nothing of a supported name has a wrong shape); throws ModelError otherwise.
  void validate() const;
  void index_tensors();

  std::filesystem::path path_;
  LlamaConfig config_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
};

// Random-weight model generation (see make_model.cpp for the presets).
struct MakeModelOptions {
  std::string preset;  // one of model_presets()
  // The weights' type: each matrix gets tensor_type(file_type_of(dtype), ...) (file_type.h),
  // so a quantized dtype gives the tensor mix llama-quantize gives that type.
  DType dtype = DType::F32;
  std::filesystem::path out;
  uint64_t seed = 0;
  // When set, replaces dtype: for the mixes that no one dtype names (q4_k_m, q5_k_m).
  std::optional<FileType> file_type;
};
// The preset names, in the order help texts list them: tiny, small, 1b, moe-tiny, micro.
const std::vector<std::string>& model_presets();
// The configuration of a preset; throws ModelError listing the presets for an unknown name.
LlamaConfig preset_config(const std::string& preset);
// Writes a GGUF v3 file with deterministic weights (same options -> same bytes), streaming,
// calling `progress` with the fraction of tensor bytes written. Throws ModelError.
void make_model(const MakeModelOptions&, std::function<void(double fraction)> progress = {});

}  // namespace bricks::model
