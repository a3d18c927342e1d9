// safetensors + config.json: HF names map onto GGUF names and q/k rows are permuted from
// HF's rotate-half order to adjacent pairs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bricks/model/model.h"
#include "test_files.h"

namespace bricks::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

struct StTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;  // HF order: [out, in]
  std::vector<unsigned char> bytes;
};

// Row r of an [out, in] F32 tensor holds base + r in every column.
StTensor rows_f32(const std::string& name, int64_t out, int64_t in, float base) {
  StTensor t{name, "F32", {out, in}, {}};
  std::vector<float> v(static_cast<size_t>(out * in));
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t c = 0; c < in; ++c) v[static_cast<size_t>(r * in + c)] = base + static_cast<float>(r);
  }
  const auto* raw = reinterpret_cast<const unsigned char*>(v.data());
  t.bytes.assign(raw, raw + v.size() * sizeof(float));
  return t;
}

void write_safetensors(const std::filesystem::path& p, const std::vector<StTensor>& ts) {
  nlohmann::json h;
  h["__metadata__"] = {{"format", "pt"}};
  size_t off = 0;
  for (const StTensor& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string head = h.dump();
  while (head.size() % 8 != 0) head += ' ';
  std::vector<unsigned char> out(8);
  const uint64_t n = head.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), head.begin(), head.end());
  for (const StTensor& t : ts) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  testing::write_bytes(p, out);
}

// hidden 8, 2 heads of 4, 1 kv head, ffn 16, vocab 10, one layer.
std::vector<StTensor> small_checkpoint() {
  const std::string l = "model.layers.0.";
  return {rows_f32("model.embed_tokens.weight", 10, 8, 0),
          rows_f32("model.norm.weight", 1, 8, 0),
          rows_f32(l + "input_layernorm.weight", 1, 8, 0),
          rows_f32(l + "post_attention_layernorm.weight", 1, 8, 0),
          rows_f32(l + "self_attn.q_proj.weight", 8, 8, 0),
          rows_f32(l + "self_attn.k_proj.weight", 4, 8, 100),
          rows_f32(l + "self_attn.v_proj.weight", 4, 8, 200),
          rows_f32(l + "self_attn.o_proj.weight", 8, 8, 300),
          rows_f32(l + "mlp.gate_proj.weight", 16, 8, 0),
          rows_f32(l + "mlp.up_proj.weight", 16, 8, 0),
          rows_f32(l + "mlp.down_proj.weight", 8, 16, 0),
          rows_f32("model.layers.0.self_attn.rotary_emb.inv_freq", 1, 2, 0)};
}

void write_config(const std::filesystem::path& dir, const std::string& type = "llama") {
  nlohmann::json c = {{"model_type", type}, {"hidden_size", 8}, {"num_hidden_layers", 1},
                      {"num_attention_heads", 2}, {"num_key_value_heads", 1},
                      {"intermediate_size", 16}, {"vocab_size", 10},
                      {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-6},
                      {"rope_theta", 500000.0}, {"tie_word_embeddings", true}};
  std::ofstream(dir / "config.json") << c.dump();
}

// Norm weights are 1-D in real checkpoints.
void make_norms_1d(std::vector<StTensor>& ts) {
  for (StTensor& t : ts) {
    if (t.name.find("norm") != std::string::npos || t.name.find("inv_freq") != std::string::npos) {
      t.shape = {t.shape[1]};
    }
  }
}

std::vector<float> row_values(const TensorView& t) {
  std::vector<float> firsts;
  const auto* f = static_cast<const float*>(t.data);
  for (int64_t r = 0; r < t.ne[1]; ++r) firsts.push_back(f[r * t.ne[0]]);
  return firsts;
}

TEST(Safetensors, MapsNamesAndPermutesQK) {
  const auto dir = testing::temp_dir();
  auto ts = small_checkpoint();
  make_norms_1d(ts);
  write_safetensors(dir / "model.safetensors", ts);
  write_config(dir);
  auto m = Model::open(dir);
  const LlamaConfig& c = m->config();
  EXPECT_EQ(c.hidden, 8);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.head_dim, 4);
  EXPECT_FLOAT_EQ(c.rope_theta, 500000.f);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FALSE(m->has_tokenizer());
  EXPECT_EQ(m->chat_template(), "");  // no tokenizer_config.json
  EXPECT_EQ(m->tensor("blk.0.attn_q.weight").ne, (std::vector<int64_t>{8, 8}));
  // Per head of 4 rows, HF pairs rows (0, 2) and (1, 3); adjacent-pair order is 0, 2, 1, 3.
  EXPECT_EQ(row_values(m->tensor("blk.0.attn_q.weight")),
            (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(row_values(m->tensor("blk.0.attn_k.weight")), (std::vector<float>{100, 102, 101, 103}));
  // v and o are not permuted.
  EXPECT_EQ(row_values(m->tensor("blk.0.attn_v.weight")), (std::vector<float>{200, 201, 202, 203}));
  EXPECT_EQ(m->tensor("blk.0.attn_output.weight").ne, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(m->tensor("blk.0.ffn_down.weight").ne, (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(m->find("output.weight"), m->find("token_embd.weight"));
  // Opening the .safetensors file opens its directory.
  EXPECT_EQ(Model::open(dir / "model.safetensors")->config().hidden, 8);
}

TEST(Safetensors, HalfTypesAndShards) {
  const auto dir = testing::temp_dir();
  auto ts = small_checkpoint();
  make_norms_1d(ts);
  // Store v_proj as BF16 and o_proj as F16, split over two shard files.
  for (StTensor& t : ts) {
    if (t.name.find("v_proj") == std::string::npos && t.name.find("o_proj") == std::string::npos) continue;
    const bool bf = t.name.find("v_proj") != std::string::npos;
    std::vector<unsigned char> half(t.bytes.size() / 2);
    for (size_t i = 0; i < half.size() / 2; ++i) {
      float x;
      std::memcpy(&x, t.bytes.data() + 4 * i, 4);
      const uint16_t h = bf ? f32_to_bf16(x) : f32_to_f16(x);
      std::memcpy(half.data() + 2 * i, &h, 2);
    }
    t.bytes = half;
    t.dtype = bf ? "BF16" : "F16";
  }
  std::vector<StTensor> a(ts.begin(), ts.begin() + 5), b(ts.begin() + 5, ts.end());
  write_safetensors(dir / "model-00001-of-00002.safetensors", a);
  write_safetensors(dir / "model-00002-of-00002.safetensors", b);
  write_config(dir, "mistral");
  auto m = Model::open(dir);
  const TensorView& v = m->tensor("blk.0.attn_v.weight");
  EXPECT_EQ(v.dtype, DType::BF16);
  EXPECT_EQ(bf16_to_f32(static_cast<const uint16_t*>(v.data)[8]), 201.f);
  EXPECT_EQ(m->tensor("blk.0.attn_output.weight").dtype, DType::F16);
}

TEST(Safetensors, ChatTemplateFromTokenizerConfigOrJinjaFile) {
  const auto dir = testing::temp_dir();
  auto ts = small_checkpoint();
  make_norms_1d(ts);
  write_safetensors(dir / "model.safetensors", ts);
  write_config(dir);
  const std::string chatml =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
  auto write_tokenizer_config = [&](const nlohmann::json& j) {
    std::ofstream(dir / "tokenizer_config.json") << j.dump();
  };

  // A config without the key.
  write_tokenizer_config({{"add_bos_token", true}});
  EXPECT_EQ(Model::open(dir)->chat_template(), "");
  // The usual string.
  write_tokenizer_config({{"add_bos_token", true}, {"chat_template", chatml}});
  EXPECT_EQ(Model::open(dir)->chat_template(), chatml);
  // A list of named templates: the "default" one.
  write_tokenizer_config(
      {{"chat_template", nlohmann::json::array({{{"name", "tool_use"}, {"template", "x"}},
                                                {{"name", "default"}, {"template", chatml}}})}});
  EXPECT_EQ(Model::open(dir)->chat_template(), chatml);
  // chat_template.jinja (newer transformers) wins over tokenizer_config.json.
  std::ofstream(dir / "chat_template.jinja") << "{{ bos_token }}[INST]";
  EXPECT_EQ(Model::open(dir)->chat_template(), "{{ bos_token }}[INST]");
  std::filesystem::remove(dir / "chat_template.jinja");
  // A value of the wrong type is an error naming the file and the key.
  write_tokenizer_config({{"chat_template", 3}});
  EXPECT_THAT([&] { Model::open(dir); },
              ::testing::ThrowsMessage<ModelError>(
                  AllOf(HasSubstr("tokenizer_config.json"), HasSubstr("chat_template"))));
}

TEST(Safetensors, ClearErrors) {
  const auto dir = testing::temp_dir();
  auto ts = small_checkpoint();
  make_norms_1d(ts);
  auto open_error = [&] {
    try {
      Model::open(dir);
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("opened");
  };
  write_safetensors(dir / "model.safetensors", ts);
  EXPECT_THAT(open_error(), HasSubstr("no config.json"));
  write_config(dir, "gemma");
  EXPECT_THAT(open_error(), HasSubstr("model_type 'gemma' is not supported"));
  write_config(dir, "qwen2");
  auto with_bias = ts;
  with_bias.push_back(rows_f32("model.layers.0.self_attn.q_proj.bias", 1, 8, 0));
  write_safetensors(dir / "model.safetensors", with_bias);
  EXPECT_THAT(open_error(), HasSubstr("q_proj.bias': bias terms"));
  auto missing = ts;
  missing.erase(missing.begin() + 8);  // gate_proj
  write_safetensors(dir / "model.safetensors", missing);
  EXPECT_THAT(open_error(), HasSubstr("missing tensor 'blk.0.ffn_gate.weight'"));
  auto bad_type = ts;
  bad_type[0].dtype = "I8";
  write_safetensors(dir / "model.safetensors", bad_type);
  EXPECT_THAT(open_error(), HasSubstr("dtype I8 is not supported"));
  write_safetensors(dir / "model.safetensors", ts);
  auto bytes = testing::read_bytes(dir / "model.safetensors");
  bytes.resize(bytes.size() - 10);
  testing::write_bytes(dir / "model.safetensors", bytes);
  EXPECT_THAT(open_error(), HasSubstr("outside the"));
  bytes.resize(4);
  testing::write_bytes(dir / "model.safetensors", bytes);
  EXPECT_THAT(open_error(), HasSubstr("truncated"));
}

// JSON that parses but has the wrong shape is a ModelError naming the file, not one of
// nlohmann's exceptions (a config.json holding a string came from the safetensors fuzz target).
TEST(Safetensors, JsonOfTheWrongShapeIsAModelError) {
  const auto dir = testing::temp_dir();
  auto ts = small_checkpoint();
  make_norms_1d(ts);
  write_safetensors(dir / "model.safetensors", ts);
  auto open_error = [&] {
    try {
      Model::open(dir);
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("opened");
  };
  std::ofstream(dir / "config.json") << "\"{bso_\"";
  EXPECT_THAT(open_error(), AllOf(HasSubstr("config.json"), HasSubstr("not a JSON object")));
  write_config(dir);
  nlohmann::json c = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  c["model_type"] = 5;
  std::ofstream(dir / "config.json") << c.dump();
  EXPECT_THAT(open_error(), AllOf(HasSubstr("config.json"), HasSubstr("wrong type")));
  c["model_type"] = "llama";
  c["hidden_size"] = 1e300;
  std::ofstream(dir / "config.json") << c.dump();
  EXPECT_THAT(open_error(), HasSubstr("'hidden_size' = "));
  write_config(dir);
  std::ofstream(dir / "tokenizer_config.json")
      << R"({"chat_template": [{"name": 3, "template": "x"}, {"name": "default", "template": "y"}]})";
  EXPECT_EQ(Model::open(dir)->chat_template(), "y");
  std::vector<unsigned char> header_string = {5, 0, 0, 0, 0, 0, 0, 0, '"', 'a', 'b', 'c', '"'};
  testing::write_bytes(dir / "model.safetensors", header_string);
  EXPECT_THAT(open_error(), HasSubstr("header is not a JSON object"));
}

}  // namespace
}  // namespace bricks::model
