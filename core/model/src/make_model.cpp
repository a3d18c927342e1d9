// Deterministic random-weight Llama models written as GGUF v3. Every tensor's values come
// from its own PRNG stream (seeded from the model seed and the tensor name), so tensors are
// generated and written one chunk at a time and the file never has to fit in memory.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "bricks/model/gguf.h"
#include "bricks/model/model.h"
#include "make_model_internal.h"
#include "run_parallel.h"

namespace bricks::model {
namespace {

constexpr float kInitStd = 0.02f;
constexpr int64_t kChunk = 1 << 16;  // values per generated chunk (a multiple of 32)

// ChatML, the template most chat fine-tunes of small models use, in the form Hugging Face
// tokenizer_config.json files carry it (the newlines are real ones inside Jinja literals).
// The vocabulary has no <|im_start|>/<|im_end|> tokens, so they tokenize as plain text.
constexpr std::string_view kChatmlTemplate =
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Approximately normal values (Irwin-Hall: the sum of four uniforms), using only integer and
// basic float arithmetic so the bytes are the same on every platform.
void fill_normal(uint64_t& state, float stddev, std::span<float> out) {
  const float scale = stddev * std::sqrt(3.f) / 65536.f;
  for (float& x : out) {
    const uint64_t r = splitmix64(state);
    const int64_t sum = static_cast<int64_t>(r & 0xFFFF) + static_cast<int64_t>((r >> 16) & 0xFFFF) +
                        static_cast<int64_t>((r >> 32) & 0xFFFF) + static_cast<int64_t>(r >> 48);
    x = static_cast<float>(sum - 2 * 65535) * scale;
  }
}

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;
  DType dtype;
  bool ones;  // norm weights start at 1
};

// The tensors of a model of shape `c`, typed by the rule of file type `ft`: norms and the
// expert router stay f32, every matrix gets tensor_type().
std::vector<TensorSpec> tensor_specs(const LlamaConfig& c, FileType ft) {
  const int64_t h = c.hidden, q = int64_t{c.n_heads} * c.head_dim,
                kv = int64_t{c.n_kv_heads} * c.head_dim, f = c.ffn, e = c.n_experts;
  std::vector<TensorSpec> s;
  auto add = [&](std::string name, std::vector<int64_t> ne, bool ones = false) {
    DType type = DType::F32;
    if (is_quantizable(name, ne.size())) {
      type = tensor_type(
          ft, {name, ne[0], tensor_layer(name), c.n_layers, c.n_experts, !c.tied_embeddings});
    }
    s.push_back({std::move(name), std::move(ne), type, ones});
  };
  add("token_embd.weight", {h, c.vocab_size});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {h}, true);
    add(b + "attn_q.weight", {h, q});
    add(b + "attn_k.weight", {h, kv});
    add(b + "attn_v.weight", {h, kv});
    add(b + "attn_output.weight", {q, h});
    add(b + "ffn_norm.weight", {h}, true);
    if (e == 0) {
      add(b + "ffn_gate.weight", {h, f});
      add(b + "ffn_up.weight", {h, f});
      add(b + "ffn_down.weight", {f, h});
    } else {
      add(b + "ffn_gate_inp.weight", {h, e});
      add(b + "ffn_gate_exps.weight", {h, f, e});
      add(b + "ffn_up_exps.weight", {h, f, e});
      add(b + "ffn_down_exps.weight", {f, h, e});
    }
  }
  add("output_norm.weight", {h}, true);
  if (!c.tied_embeddings) add("output.weight", {h, c.vocab_size});
  return s;
}

void set_metadata(GgufWriter& w, const LlamaConfig& c, const std::string& preset, FileType ft) {
  w.set("general.architecture", GgufValue::str("llama"));
  w.set("general.name", GgufValue::str(c.name));
  w.set("general.description", GgufValue::str("random weights made by `bricks make-model --preset " + preset + "`"));
  w.set("general.file_type", GgufValue::u32(static_cast<uint32_t>(ft)));
  if (dtype_is_quantized(file_type_base(ft))) {
    w.set("general.quantization_version", GgufValue::u32(2));
  }
  auto u = [&](const char* k, int32_t v) { w.set(std::string("llama.") + k, GgufValue::u32(static_cast<uint32_t>(v))); };
  u("vocab_size", c.vocab_size);
  u("context_length", c.context_length);
  u("embedding_length", c.hidden);
  u("block_count", c.n_layers);
  u("feed_forward_length", c.ffn);
  u("rope.dimension_count", c.head_dim);
  u("attention.head_count", c.n_heads);
  u("attention.head_count_kv", c.n_kv_heads);
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_eps));
  w.set("llama.rope.freq_base", GgufValue::f32(c.rope_theta));
  if (c.n_experts > 0) {
    u("expert_count", c.n_experts);
    u("expert_used_count", c.n_experts_used);
  }

  const TrainedVocab v = train_vocab(training_text(), c.vocab_size);
  std::vector<GgufValue> tokens, scores, types;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    tokens.push_back(GgufValue::str(v.tokens[i]));
    scores.push_back(GgufValue::f32(v.scores[i]));
    types.push_back(GgufValue::i32(static_cast<int32_t>(v.types[i])));
  }
  w.set("tokenizer.ggml.model", GgufValue::str("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::array(GgufType::STRING, std::move(tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::array(GgufType::F32, std::move(scores)));
  w.set("tokenizer.ggml.token_type", GgufValue::array(GgufType::I32, std::move(types)));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(true));
  w.set("tokenizer.chat_template", GgufValue::str(std::string(kChatmlTemplate)));
}

// Writes `values` converted to `dt` into `sink`. The block types' encoders are slow enough
// (the k-quants search for scales) to share a chunk's blocks between the cores.
void emit(DType dt, std::span<const float> values, std::vector<unsigned char>& buf,
          const GgufWriter::Sink& sink) {
  const size_t n = values.size();
  buf.resize(*dtype_bytes(dt, static_cast<int64_t>(n)));
  const BlockShape block = dtype_block(dt);
  const auto blocks = static_cast<int64_t>(n) / block.values;
  const int64_t workers =
      dtype_is_quantized(dt) && blocks > 1 ? std::min<int64_t>(default_threads(), blocks) : 1;
  run_parallel(workers, [&](int64_t w) {
    const auto first = static_cast<size_t>(blocks * w / workers);
    const auto count = static_cast<size_t>(blocks * (w + 1) / workers) - first;
    const auto per = static_cast<size_t>(block.values);
    from_f32(
        dt, values.subspan(first * per, count * per),
        std::as_writable_bytes(std::span(buf)).subspan(first * block.bytes, count * block.bytes));
  });
  sink(buf.data(), buf.size());
}

}  // namespace

const std::vector<std::string>& model_presets() {
  static const std::vector<std::string> names{"tiny", "small", "1b", "7b", "moe-tiny", "micro"};
  return names;
}

LlamaConfig preset_config(const std::string& preset) {
  LlamaConfig c;
  c.arch = "llama";
  c.name = "bricks-" + preset;
  c.rope_theta = 10000.f;
  c.rms_eps = 1e-5f;
  if (preset == "tiny" || preset == "moe-tiny") {  // the shape of llama2.c's stories15M
    c.hidden = 288; c.n_layers = 6; c.n_heads = 6; c.n_kv_heads = 6; c.ffn = 768;
    c.vocab_size = 4096; c.context_length = 512; c.tied_embeddings = true;
    if (preset == "moe-tiny") { c.n_experts = 4; c.n_experts_used = 2; }
  } else if (preset == "small") {  // llama2.c's stories110M
    c.hidden = 768; c.n_layers = 12; c.n_heads = 12; c.n_kv_heads = 12; c.ffn = 2048;
    c.vocab_size = 32000; c.context_length = 1024; c.tied_embeddings = true;
  } else if (preset == "1b") {  // TinyLlama-1.1B
    c.hidden = 2048; c.n_layers = 22; c.n_heads = 32; c.n_kv_heads = 4; c.ffn = 5632;
    c.vocab_size = 32000; c.context_length = 2048; c.tied_embeddings = false;
  } else if (preset == "7b") {  // Llama-2-7B (13.5 GB in bf16; for GPU benchmarks)
    c.hidden = 4096;
    c.n_layers = 32;
    c.n_heads = 32;
    c.n_kv_heads = 32;
    c.ffn = 11008;
    c.vocab_size = 32000;
    c.context_length = 4096;
    c.tied_embeddings = false;
  } else if (preset == "micro") {  // the smallest shape every block type fits (rows of 256)
    c.hidden = 256;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.ffn = 512;
    c.vocab_size = 512;
    c.context_length = 256;
    c.tied_embeddings = false;
  } else {
    std::string names;
    for (const std::string& n : model_presets()) names += (names.empty() ? "" : ", ") + n;
    throw ModelError("unknown model preset '" + preset + "' (presets: " + names + ")");
  }
  c.head_dim = c.hidden / c.n_heads;
  return c;
}

void make_model(const MakeModelOptions& o, std::function<void(double)> progress) {
  const LlamaConfig c = preset_config(o.preset);
  if (o.out.empty()) throw ModelError("make_model: no output path given");
  GgufWriter w;
  const FileType ft = o.file_type.value_or(file_type_of(o.dtype));
  set_metadata(w, c, o.preset, ft);
  const std::vector<TensorSpec> specs = tensor_specs(c, ft);
  uint64_t total = 0;
  for (const TensorSpec& s : specs) {
    w.add_tensor(s.name, s.dtype, s.ne);
    int64_t n = 1;
    for (int64_t d : s.ne) n *= d;
    total += *dtype_bytes(s.dtype, n);
  }

  uint64_t done = 0;
  std::vector<float> values(kChunk);
  std::vector<unsigned char> buf;
  w.write_atomically(o.out, [&](size_t i, const GgufWriter::Sink& sink) {
    const TensorSpec& s = specs[i];
    int64_t n = 1;
    for (int64_t d : s.ne) n *= d;
    uint64_t state = o.seed ^ name_hash(s.name);
    for (int64_t at = 0; at < n; at += kChunk) {
      const auto len = static_cast<size_t>(std::min<int64_t>(kChunk, n - at));
      std::span<float> chunk(values.data(), len);
      if (s.ones) {
        std::fill(chunk.begin(), chunk.end(), 1.f);
      } else {
        fill_normal(state, kInitStd, chunk);
      }
      emit(s.dtype, chunk, buf, sink);
      done += buf.size();
      if (progress) progress(static_cast<double>(done) / static_cast<double>(total));
    }
  });
}

}  // namespace bricks::model
