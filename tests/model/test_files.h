// Shared test code for suites that write model files: a fresh temporary directory per test and a
// small valid Llama GGUF that tests then break in one way each.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bricks/model/gguf.h"
#include "scratch_dir.h"

namespace bricks::model::testing {

inline std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = bricks::testing::scratch_dir("bricks-model-test") /
             (std::string(info->test_suite_name()) + "_" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<unsigned char> read_bytes(const std::filesystem::path& p) {
  std::ifstream is(p, std::ios::binary | std::ios::ate);
  std::vector<unsigned char> b(static_cast<size_t>(std::max<std::streamoff>(is.tellg(), 0)));
  is.seekg(0);
  is.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return b;
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<unsigned char>& b) {
  std::ofstream os(p, std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A small Llama: hidden 64, 2 layers, 4 heads (head_dim 16), 2 kv heads, ffn 96, vocab 40.
struct SmallLlama {
  int64_t hidden = 64, layers = 2, heads = 4, kv_heads = 2, ffn = 96, vocab = 40;
  std::string skip;          // a tensor to leave out
  std::string reshape;       // a tensor to give shape {7, 7}
  bool tied = true;
  std::optional<GgufValue> chat_template;  // written as tokenizer.chat_template when set
};

inline void write_small_llama(const std::filesystem::path& p, const SmallLlama& s = {}) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("llama"));
  w.set("general.name", GgufValue::str("small-test"));
  w.set("llama.embedding_length", GgufValue::u32(static_cast<uint32_t>(s.hidden)));
  w.set("llama.block_count", GgufValue::u32(static_cast<uint32_t>(s.layers)));
  w.set("llama.feed_forward_length", GgufValue::u32(static_cast<uint32_t>(s.ffn)));
  w.set("llama.attention.head_count", GgufValue::u32(static_cast<uint32_t>(s.heads)));
  w.set("llama.attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(s.kv_heads)));
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-6f));
  w.set("llama.context_length", GgufValue::u32(128));
  w.set("llama.vocab_size", GgufValue::u32(static_cast<uint32_t>(s.vocab)));
  if (s.chat_template) w.set("tokenizer.chat_template", *s.chat_template);
  const int64_t hd = s.hidden / s.heads;
  std::vector<size_t> sizes;
  auto add = [&](const std::string& n, std::vector<int64_t> ne) {
    if (n == s.skip) return;
    if (n == s.reshape) ne = {7, 7};
    int64_t numel = 1;
    for (int64_t d : ne) numel *= d;
    sizes.push_back(static_cast<size_t>(numel));
    w.add_tensor(n, DType::F32, ne);
  };
  add("token_embd.weight", {s.hidden, s.vocab});
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {s.hidden});
    add(b + "attn_q.weight", {s.hidden, s.heads * hd});
    add(b + "attn_k.weight", {s.hidden, s.kv_heads * hd});
    add(b + "attn_v.weight", {s.hidden, s.kv_heads * hd});
    add(b + "attn_output.weight", {s.heads * hd, s.hidden});
    add(b + "ffn_norm.weight", {s.hidden});
    add(b + "ffn_gate.weight", {s.hidden, s.ffn});
    add(b + "ffn_up.weight", {s.hidden, s.ffn});
    add(b + "ffn_down.weight", {s.ffn, s.hidden});
  }
  add("output_norm.weight", {s.hidden});
  if (!s.tied) add("output.weight", {s.hidden, s.vocab});
  // Tensor i holds i + 0.5, i + 1.5, ... so tests can tell tensors and elements apart.
  w.write(p, [&](size_t i, const GgufWriter::Sink& sink) {
    std::vector<float> v(sizes[i]);
    for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(i + k) + 0.5f;
    sink(v.data(), v.size() * sizeof(float));
  });
}

}  // namespace bricks::model::testing
