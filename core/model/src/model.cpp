// Model: the format-independent part (lookup, validation against the config) and open(),
// which picks the loader by what the path is.
#include "bricks/model/model.h"

#include <cstring>
#include <fstream>

#include "loaders.h"

namespace bricks::model {

Tokenizer::~Tokenizer() = default;
Model::~Model() = default;

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::unique_ptr<Model> Model::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return open_safetensors_dir(path);
  if (!std::filesystem::exists(path, ec)) {
    throw ModelError(path.string() + ": no such file or directory");
  }
  if (path.extension() == ".safetensors") {
    return open_safetensors_dir(path.has_parent_path() ? path.parent_path() : ".");
  }
  char magic[4] = {};
  std::ifstream is(path, std::ios::binary);
  is.read(magic, 4);
  if (is.gcount() == 4 && std::memcmp(magic, "GGUF", 4) != 0) {
    throw ModelError(path.string() + ": not a model file: expected a GGUF file (magic 'GGUF'), "
                     "a .safetensors file or a directory with config.json and *.safetensors");
  }
  return open_gguf(path);
}

const TensorView* Model::find(std::string_view name) const {
  auto it = index_.find(name);
  if (it != index_.end()) return &tensors_[it->second];
  if (name == "output.weight" && config_.tied_embeddings) return find("token_embd.weight");
  return nullptr;
}

const TensorView& Model::tensor(std::string_view name) const {
  const TensorView* t = find(name);
  if (t == nullptr) {
    throw ModelError(path_.string() + ": no tensor '" + std::string(name) + "' in the model");
  }
  return *t;
}

const Tokenizer& Model::tokenizer() const {
  if (!tokenizer_) {
    throw ModelError(path_.string() + ": the model file carries no tokenizer (GGUF: no "
                     "tokenizer.ggml.tokens; safetensors: no tokenizer.json beside it)");
  }
  return *tokenizer_;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const TensorView& t : tensors_) n += t.nbytes;
  return n;
}

void Model::index_tensors() {
  index_.clear();
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
}

namespace {

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

void Model::validate() const {
  const LlamaConfig& c = config_;
  const std::string file = path_.string();
  auto bad = [&](const std::string& what) { throw ModelError(file + ": " + what); };
  if (c.hidden <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.ffn <= 0 ||
      c.vocab_size <= 0 || c.head_dim <= 0) {
    bad("incomplete config: hidden=" + std::to_string(c.hidden) + " layers=" +
        std::to_string(c.n_layers) + " heads=" + std::to_string(c.n_heads) + " kv_heads=" +
        std::to_string(c.n_kv_heads) + " ffn=" + std::to_string(c.ffn) + " vocab=" +
        std::to_string(c.vocab_size) + " (all must be positive)");
  }
  if (c.n_heads % c.n_kv_heads != 0) {
    bad("head count " + std::to_string(c.n_heads) + " is not a multiple of the kv head count " +
        std::to_string(c.n_kv_heads));
  }
  if (c.head_dim % 2 != 0) bad("head dimension " + std::to_string(c.head_dim) + " is odd (RoPE needs pairs)");
  if (c.n_experts < 0 || c.n_experts_used < 0 || c.n_experts_used > c.n_experts ||
      (c.n_experts > 0 && c.n_experts_used == 0)) {
    bad("expert_used_count " + std::to_string(c.n_experts_used) + " does not fit expert_count " +
        std::to_string(c.n_experts));
  }
  auto expect = [&](const std::string& name, std::vector<int64_t> ne) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      bad("missing tensor '" + name + "' (expected shape " + shape_str(ne) + ")");
    }
    const TensorView& t = tensors_[it->second];
    if (t.ne != ne) {
      bad("tensor '" + name + "' has shape " + shape_str(t.ne) + ", expected " + shape_str(ne) +
          " for hidden=" + std::to_string(c.hidden) + " heads=" + std::to_string(c.n_heads) +
          " kv_heads=" + std::to_string(c.n_kv_heads) + " ffn=" + std::to_string(c.ffn) +
          " vocab=" + std::to_string(c.vocab_size));
    }
  };
  const int64_t h = c.hidden, q = int64_t{c.n_heads} * c.head_dim,
                kv = int64_t{c.n_kv_heads} * c.head_dim, f = c.ffn, e = c.n_experts;
  expect("token_embd.weight", {h, c.vocab_size});
  expect("output_norm.weight", {h});
  if (!c.tied_embeddings) expect("output.weight", {h, c.vocab_size});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    expect(b + "attn_norm.weight", {h});
    expect(b + "attn_q.weight", {h, q});
    expect(b + "attn_k.weight", {h, kv});
    expect(b + "attn_v.weight", {h, kv});
    expect(b + "attn_output.weight", {q, h});
    expect(b + "ffn_norm.weight", {h});
    if (e == 0) {
      expect(b + "ffn_gate.weight", {h, f});
      expect(b + "ffn_up.weight", {h, f});
      expect(b + "ffn_down.weight", {f, h});
    } else {
      expect(b + "ffn_gate_inp.weight", {h, e});
      expect(b + "ffn_gate_exps.weight", {h, f, e});
      expect(b + "ffn_up_exps.weight", {h, f, e});
      expect(b + "ffn_down_exps.weight", {f, h, e});
    }
  }
}

}  // namespace bricks::model
