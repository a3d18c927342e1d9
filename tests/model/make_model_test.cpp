// make_model: deterministic bytes per seed, loadable by Model::open, sane weights and a
// vocabulary that gives real multi-character pieces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cmath>

#include "bricks/model/gguf.h"
#include "bricks/model/model.h"
#include "test_files.h"

namespace bricks::model {
namespace {

std::string sha256(const std::filesystem::path& p) {
  const auto bytes = testing::read_bytes(p);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

class MakeModelDType : public ::testing::TestWithParam<DType> {};

TEST_P(MakeModelDType, SameSeedSameBytesAndLoads) {
  const auto dir = testing::temp_dir();
  MakeModelOptions o{"tiny", GetParam(), dir / "a.gguf", 7};
  double last = -1;
  make_model(o, [&](double f) {
    EXPECT_GE(f, last);
    last = f;
  });
  EXPECT_DOUBLE_EQ(last, 1.0);
  o.out = dir / "b.gguf";
  make_model(o);
  EXPECT_EQ(sha256(dir / "a.gguf"), sha256(dir / "b.gguf"));
  if (GetParam() == DType::F16) {  // one dtype suffices to see the seed matter
    o.out = dir / "c.gguf";
    o.seed = 8;
    make_model(o);
    EXPECT_NE(sha256(dir / "a.gguf"), sha256(dir / "c.gguf"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "a.gguf.partial"));

  auto m = Model::open(dir / "a.gguf");
  const LlamaConfig& c = m->config();
  EXPECT_EQ(c.hidden, 288);
  EXPECT_EQ(c.n_layers, 6);
  EXPECT_EQ(c.n_heads, 6);
  EXPECT_EQ(c.n_kv_heads, 6);
  EXPECT_EQ(c.head_dim, 48);
  EXPECT_EQ(c.ffn, 768);
  EXPECT_EQ(c.vocab_size, 4096);
  EXPECT_EQ(c.context_length, 512);
  EXPECT_TRUE(c.tied_embeddings);
  const TensorView& q = m->tensor("blk.2.attn_q.weight");
  EXPECT_EQ(q.dtype, GetParam());
  EXPECT_EQ(m->tensor("blk.2.attn_norm.weight").dtype, DType::F32);

  // Weights look like an init with std 0.02; norms are exactly 1.
  std::vector<float> w(static_cast<size_t>(q.numel()));
  to_f32(q.dtype, q.data, w);
  double sum = 0, sq = 0;
  for (float x : w) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += double{x} * x;
  }
  const double mean = sum / w.size(), sd = std::sqrt(sq / w.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(sd, 0.02, 0.002);
  const auto* norm = static_cast<const float*>(m->tensor("output_norm.weight").data);
  EXPECT_EQ(norm[0], 1.f);
  EXPECT_EQ(norm[287], 1.f);
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, MakeModelDType,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                                           DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// The k-quant types follow llama.cpp's mix: tiny's rows of 288 are not whole super-blocks
// and fall back to q5_0, its ffn_down rows (768) take q4_K or, on "more bits" layers (2 and
// 5 of 6), q6_K; the tied embedding is the output matrix, q6_K -> q8_0 for rows of 288.
TEST(MakeModel, KQuantMixes) {
  const auto dir = testing::temp_dir();
  const auto p = dir / "tiny-q4km.gguf";
  MakeModelOptions o{"tiny", DType::Q4_K, p, 3};
  o.file_type = FileType::Q4_K_M;
  make_model(o);
  const auto f = GgufFile::open(p);
  EXPECT_EQ(f->get_int("general.file_type"), 15);
  EXPECT_EQ(f->get_int("general.quantization_version"), 2);
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->dtype, DType::Q5_0);
  EXPECT_EQ(f->find_tensor("blk.1.ffn_down.weight")->dtype, DType::Q4_K);
  EXPECT_EQ(f->find_tensor("blk.2.ffn_down.weight")->dtype, DType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.5.attn_v.weight")->dtype, DType::Q8_0);  // q6_K, rows of 288
  EXPECT_EQ(f->find_tensor("token_embd.weight")->dtype, DType::Q8_0);
  EXPECT_EQ(f->find_tensor("output_norm.weight")->dtype, DType::F32);
  auto m = Model::open(p);
  EXPECT_EQ(m->config().n_layers, 6);

  // Without file_type the dtype names the plain mix: q4_k is llama.cpp's Q4_K_S.
  o.file_type.reset();
  o.out = dir / "tiny-q4ks.gguf";
  make_model(o);
  EXPECT_EQ(GgufFile::open(o.out)->get_int("general.file_type"), 14);
}

TEST(MakeModel, TokenizerGivesMultiCharacterPieces) {
  const auto p = testing::temp_dir() / "tiny.gguf";
  make_model({"tiny", DType::F16, p, 0});
  auto m = Model::open(p);
  const Tokenizer& t = m->tokenizer();
  EXPECT_EQ(t.vocab_size(), 4096);
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.eos(), 2);
  EXPECT_EQ(t.token_text(0), "<unk>");
  EXPECT_EQ(t.token_text(3), "<0x00>");
  EXPECT_EQ(t.token_text(258), "<0xFF>");
  const std::vector<int32_t> ids = t.encode("Once upon a time", true);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_LE(ids.size(), 5u);  // at most one piece per word, plus BOS
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_GT(t.piece(ids[i]).size(), 1u) << "piece " << i << " '" << t.piece(ids[i]) << "'";
  }
  EXPECT_EQ(t.decode(ids), "Once upon a time");
  // Text the vocabulary never saw still encodes (characters, then bytes) and round-trips.
  const std::string odd = "Zebra quux \xE2\x82\xAC 42";
  EXPECT_EQ(t.decode(t.encode(odd, false)), odd);
}

TEST(MakeModel, CarriesAChatmlTemplate) {
  const auto p = testing::temp_dir() / "tiny.gguf";
  make_model({"tiny", DType::F32, p, 0});
  auto m = Model::open(p);
  EXPECT_EQ(m->chat_template(),
            "{% for message in messages %}"
            "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
            "'\n'}}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}");
  // The vocabulary has no ChatML control tokens: the markers are spelt out as text, so a
  // rendered conversation round-trips through the tokenizer unchanged.
  const Tokenizer& t = m->tokenizer();
  const std::string turn = "<|im_start|>user\nOnce upon a time<|im_end|>\n";
  EXPECT_EQ(t.decode(t.encode(turn, false)), turn);
}

TEST(MakeModel, MoeTinyHasExperts) {
  const auto p = testing::temp_dir() / "moe.gguf";
  make_model({"moe-tiny", DType::Q8_0, p, 1});
  auto m = Model::open(p);
  EXPECT_EQ(m->config().n_experts, 4);
  EXPECT_EQ(m->config().n_experts_used, 2);
  EXPECT_EQ(m->tensor("blk.0.ffn_gate_exps.weight").ne, (std::vector<int64_t>{288, 768, 4}));
  EXPECT_EQ(m->tensor("blk.5.ffn_down_exps.weight").ne, (std::vector<int64_t>{768, 288, 4}));
  EXPECT_EQ(m->tensor("blk.0.ffn_gate_inp.weight").ne, (std::vector<int64_t>{288, 4}));
  EXPECT_EQ(m->find("blk.0.ffn_gate.weight"), nullptr);
}

TEST(MakeModel, PresetsAndErrors) {
  const LlamaConfig b = preset_config("1b");
  EXPECT_EQ(b.hidden, 2048);
  EXPECT_EQ(b.n_layers, 22);
  EXPECT_EQ(b.n_heads, 32);
  EXPECT_EQ(b.n_kv_heads, 4);
  EXPECT_EQ(b.ffn, 5632);
  EXPECT_EQ(b.vocab_size, 32000);
  EXPECT_EQ(b.context_length, 2048);
  EXPECT_FALSE(b.tied_embeddings);
  EXPECT_EQ(preset_config("small").hidden, 768);
  EXPECT_THAT([] { preset_config("huge"); },
              ::testing::ThrowsMessage<ModelError>(::testing::HasSubstr("unknown model preset 'huge'")));
  EXPECT_THROW(make_model({"tiny", DType::F32, "/nonexistent-dir/x.gguf", 0}), ModelError);
}

}  // namespace
}  // namespace bricks::model
