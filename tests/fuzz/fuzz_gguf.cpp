// Fuzzes the GGUF reader: the bytes as a .gguf file, opened as a model (header, metadata,
// tensor table, the llama.* config, shapes, the tokenizer) and, apart from that, as a bare
// GgufFile whose tokenizer keys are read even when the model would be refused earlier. A
// ModelError is the outcome bad bytes should have; any other exception, a crash or a sanitizer
// report is a finding. The reader only takes a path, so each input is written to a scratch
// file first.
//
// Seeds are tiny models made here (BRICKS_FUZZ_WRITE_SEEDS, see fuzz_support.h), as binary
// files have no place in the repository's corpus.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/gguf.h"
#include "bricks/model/model.h"
#include "fuzz_support.h"
#include "loaders.h"

namespace {

using namespace bricks::model;

// Reads every byte of every tensor, so a tensor that claims bytes past the mapping is found.
void touch_tensors(const Model& m) {
  unsigned sum = 0;
  for (const TensorView& t : m.tensors()) {
    const auto* p = static_cast<const unsigned char*>(t.data);
    for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];
  }
  volatile unsigned sink = sum;
  (void)sink;
}

void use_tokenizer(const Tokenizer& tok) {
  const std::vector<int32_t> ids = tok.encode("Hello world <s> \xF0\x9F\x98\x80\xFF", true);
  (void)tok.decode(ids);
  for (int32_t id = -1; id <= tok.vocab_size(); ++id) {
    (void)tok.piece(id);
    (void)tok.token_text(id);
  }
}

// <|endoftext|> is a control token; <unk>, <s>, </s> and <0x0A> are what their names say.
TokenType token_type(bool gpt2, size_t i) {
  if (gpt2) return i == 0 ? TokenType::Control : TokenType::Normal;
  switch (i) {
    case 0:
      return TokenType::Unknown;
    case 1:
    case 2:
      return TokenType::Control;
    case 3:
      return TokenType::Byte;
    default:
      return TokenType::Normal;
  }
}

// GPT-2's byte-level character of byte `b` (UTF-8): printable bytes stand for themselves, the
// others for U+0100 onwards in byte order. A byte-level vocabulary has a token for each.
std::string byte_level_char(int b) {
  const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  int cp = b;
  if (!printable) {
    cp = 256;
    for (int x = 0; x < b; ++x) {
      if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++cp;
    }
  }
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

struct TinyModel {
  const char* file;
  DType dtype;
  bool gpt2;        // a byte-level BPE vocabulary with merges (else SentencePiece-style)
  bool untied;      // an output.weight of its own
  int32_t experts;  // 0: dense
};

// A model of one layer, two heads sharing one KV head, a hidden size of 8 (32 for q8_0, whose
// rows hold blocks of 32) and a vocabulary of a few tokens: a few KB.
void write_tiny_model(const std::filesystem::path& dir, const TinyModel& o) {
  const int64_t h = o.dtype == DType::Q8_0 ? 32 : 8, heads = 2, kv_heads = 1, head_dim = h / 2,
                ffn = h;
  std::vector<std::string> tokens = o.gpt2 ? std::vector<std::string>{"<|endoftext|>", "ab",
                                                                      "\xC4\xA0"
                                                                      "a"}
                                           : std::vector<std::string>{"<unk>",
                                                                      "<s>",
                                                                      "</s>",
                                                                      "<0x0A>",
                                                                      "\xE2\x96\x81",
                                                                      "a",
                                                                      "\xE2\x96\x81"
                                                                      "a"};
  if (o.gpt2) {
    for (int b = 0; b < 256; ++b) tokens.push_back(byte_level_char(b));
  }
  const auto vocab = static_cast<int64_t>(tokens.size());
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("llama"));
  w.set("general.name", GgufValue::str("fuzz-seed"));
  auto u = [&](const char* k, int64_t v) {
    w.set(std::string("llama.") + k, GgufValue::u32(static_cast<uint32_t>(v)));
  };
  u("vocab_size", vocab);
  u("context_length", 64);
  u("embedding_length", h);
  u("block_count", 1);
  u("feed_forward_length", ffn);
  u("attention.head_count", heads);
  u("attention.head_count_kv", kv_heads);
  u("rope.dimension_count", head_dim);
  if (o.experts > 0) {
    u("expert_count", o.experts);
    u("expert_used_count", 1);
  }
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
  w.set("llama.rope.freq_base", GgufValue::f32(10000.f));
  std::vector<GgufValue> toks, scores, types;
  for (size_t i = 0; i < tokens.size(); ++i) {
    toks.push_back(GgufValue::str(tokens[i]));
    scores.push_back(GgufValue::f32(-static_cast<float>(i)));
    types.push_back(GgufValue::i32(static_cast<int32_t>(token_type(o.gpt2, i))));
  }
  w.set("tokenizer.ggml.model", GgufValue::str(o.gpt2 ? "gpt2" : "llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::array(GgufType::STRING, std::move(toks)));
  w.set("tokenizer.ggml.token_type", GgufValue::array(GgufType::I32, std::move(types)));
  if (o.gpt2) {
    w.set("tokenizer.ggml.pre", GgufValue::str("qwen2"));
    w.set(
        "tokenizer.ggml.merges",
        GgufValue::array(GgufType::STRING, {GgufValue::str("a b"), GgufValue::str("\xC4\xA0 a")}));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(0));
  } else {
    w.set("tokenizer.ggml.scores", GgufValue::array(GgufType::F32, std::move(scores)));
    w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(0));
    w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
    w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  }
  w.set("tokenizer.chat_template", GgufValue::str("{{'<|im_start|>' + message['role']}}"));

  const int64_t q = heads * head_dim, kv = kv_heads * head_dim;
  std::vector<size_t> sizes;
  auto add = [&](const std::string& name, DType dt, std::vector<int64_t> ne) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    sizes.push_back(*dtype_bytes(dt, n));
    w.add_tensor(name, dt, std::move(ne));
  };
  add("token_embd.weight", o.dtype, {h, vocab});
  add("output_norm.weight", DType::F32, {h});
  if (o.untied) add("output.weight", o.dtype, {h, vocab});
  add("blk.0.attn_norm.weight", DType::F32, {h});
  add("blk.0.attn_q.weight", o.dtype, {h, q});
  add("blk.0.attn_k.weight", o.dtype, {h, kv});
  add("blk.0.attn_v.weight", o.dtype, {h, kv});
  add("blk.0.attn_output.weight", o.dtype, {q, h});
  add("blk.0.ffn_norm.weight", DType::F32, {h});
  if (o.experts == 0) {
    add("blk.0.ffn_gate.weight", o.dtype, {h, ffn});
    add("blk.0.ffn_up.weight", o.dtype, {h, ffn});
    add("blk.0.ffn_down.weight", o.dtype, {ffn, h});
  } else {
    add("blk.0.ffn_gate_inp.weight", DType::F32, {h, o.experts});
    add("blk.0.ffn_gate_exps.weight", o.dtype, {h, ffn, o.experts});
    add("blk.0.ffn_up_exps.weight", o.dtype, {h, ffn, o.experts});
    add("blk.0.ffn_down_exps.weight", o.dtype, {ffn, h, o.experts});
  }
  // Zero bytes are a valid value in every dtype, and the fuzzer mutates the header anyway.
  w.write(dir / o.file, [&](size_t i, const GgufWriter::Sink& sink) {
    const std::vector<unsigned char> zeros(sizes[i], 0);
    sink(zeros.data(), zeros.size());
  });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  bricks::fuzz::write_seeds_if_asked([](const std::filesystem::path& dir) {
    write_tiny_model(dir, {"spm_f32.gguf", DType::F32, false, false, 0});
    write_tiny_model(dir, {"bpe_f16_untied.gguf", DType::F16, true, true, 0});
    write_tiny_model(dir, {"spm_q8_0_moe.gguf", DType::Q8_0, false, false, 2});
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = bricks::fuzz::write_scratch_file(
      "input.gguf", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const std::unique_ptr<Model> m = Model::open(file);
    touch_tensors(*m);
    (void)m->weight_bytes();
    if (m->has_tokenizer()) use_tokenizer(m->tokenizer());
  } catch (const ModelError&) {
  }
  try {
    const std::unique_ptr<GgufFile> f = GgufFile::open(file);
    if (const std::unique_ptr<Tokenizer> tok = gguf_tokenizer(*f)) use_tokenizer(*tok);
  } catch (const ModelError&) {
  }
  return 0;
}
