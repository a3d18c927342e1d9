// LlamaWeights::load: with bf16 compute the resident f16 matrices are held as their bf16
// rounding (what every bf16 matmul reads them as); f32 compute and streamed layers keep the
// file's f16. LlamaWeights::bytes_per_token: the weight bytes a decoded token reads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpu/convert.h"
#include "cpu/weight_lanes.h"
#include "engine/llama_weights.h"
#include "test_models.h"

namespace bricks::testing {
namespace {

using cpu::Compute;
using cpu::WeightType;

std::vector<const cpu::Linear*> matrices(const engine::LayerWeights& L) {
  return {L.wq.get(),     L.wk.get(),   L.wv.get(),    L.wo.get(),
          L.w_gate.get(), L.w_up.get(), L.w_down.get()};
}

// Column j of the linear's matrix, as forward() of the unit vector e_j gives it.
std::vector<float> column(const cpu::Linear& lin, int64_t j) {
  std::vector<float> x(static_cast<size_t>(lin.cols()), 0.0f), y(static_cast<size_t>(lin.rows()));
  x[static_cast<size_t>(j)] = 1.0f;
  lin.forward(x.data(), 1, y.data());
  return y;
}

class LlamaWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = model::Model::open(process_model("tiny", model::DType::F16)); }
  std::unique_ptr<model::Model> model_;
};

TEST_F(LlamaWeightsTest, Bf16ComputeHoldsTheF16MatricesAsTheirBf16Rounding) {
  const auto w = engine::LlamaWeights::load(*model_, Compute::BF16);
  ASSERT_NE(w.arena, nullptr);
  EXPECT_EQ(w.output->weight_type(), WeightType::BF16);
  const bool tied = model_->config().tied_embeddings;
  EXPECT_EQ(w.token_embd.type, tied ? WeightType::BF16 : WeightType::F16);
  for (const engine::LayerWeights& L : w.layers) {
    for (const cpu::Linear* lin : matrices(L)) EXPECT_EQ(lin->weight_type(), WeightType::BF16);
  }
  // Values: every column checked against the file's halves rounded to bf16.
  const model::TensorView& wq = model_->tensor("blk.1.attn_q.weight");
  const auto* halves = static_cast<const uint16_t*>(wq.data);
  const cpu::Linear& lin = *w.layers[1].wq;
  for (int64_t j = 0; j < lin.cols(); j += 7) {
    const std::vector<float> got = column(lin, j);
    for (int64_t r = 0; r < lin.rows(); ++r) {
      const float want = cpu::round_to_bf16(cpu::f16_bits_to_f32(halves[r * lin.cols() + j]));
      ASSERT_EQ(got[static_cast<size_t>(r)], want) << "row " << r << " column " << j;
    }
  }
  EXPECT_NE(w.weight_types.find("held as bf16"), std::string::npos) << w.weight_types;
}

TEST_F(LlamaWeightsTest, F32ComputeAndStreamedLayersKeepTheFilesHalves) {
  const auto f32 = engine::LlamaWeights::load(*model_, Compute::F32);
  EXPECT_EQ(f32.arena, nullptr);
  for (const cpu::Linear* lin : matrices(f32.layers[0])) {
    EXPECT_EQ(lin->weight_type(), WeightType::F16);
  }
  std::vector<bool> streamed(f32.layers.size(), false);
  streamed[0] = true;
  const auto bf16 = engine::LlamaWeights::load(*model_, Compute::BF16, {.streamed = streamed});
  for (const cpu::Linear* lin : matrices(bf16.layers[0])) {
    EXPECT_EQ(lin->weight_type(), WeightType::F16);
  }
  for (const cpu::Linear* lin : matrices(bf16.layers[1])) {
    EXPECT_EQ(lin->weight_type(), WeightType::BF16);
  }
}

// A decoded token reads every matrix once and one row of the embedding table: the file's
// 2-D tensors less the rest of an untied table (a tied one is the output matrix too).
TEST_F(LlamaWeightsTest, BytesPerTokenCountEveryMatrixOnceAndOneEmbeddingRow) {
  size_t matrices_bytes = 0;
  for (const model::TensorView& t : model_->tensors()) {
    if (t.ne.size() >= 2 && t.name != "token_embd.weight") matrices_bytes += t.nbytes;
  }
  const model::TensorView& embd = model_->tensor("token_embd.weight");
  const size_t row = embd.nbytes / static_cast<size_t>(embd.ne[1]);
  const size_t want =
      matrices_bytes + row + (model_->config().tied_embeddings ? embd.nbytes : size_t{0});
  EXPECT_EQ(engine::LlamaWeights::load(*model_, Compute::F32).bytes_per_token(), want);
  // bf16 compute holds the f16 matrices as bf16: the same 2 bytes a value.
  EXPECT_EQ(engine::LlamaWeights::load(*model_, Compute::BF16).bytes_per_token(), want);
}

// With q8_lanes, f32 compute on an AVX512_VNNI CPU holds the q8_0 matrices of a multiple of 512
// columns in the lane layout (cpu/weight_lanes.h): the micro model's ffn_down (512 columns) and
// none of its 256-column matrices; elsewhere the weight types say why not. Either way each
// matrix computes what the file's bytes say. Without the option nothing is repacked.
TEST(LlamaWeightsLanes, Q8MatricesOfWholeLaneGroupsAreRepackedWhereTheKernelRuns) {
  const auto m = model::Model::open(process_model("micro", model::DType::Q8_0));
  const auto plain = engine::LlamaWeights::load(*m, Compute::F32);
  EXPECT_EQ(plain.arena, nullptr);
  EXPECT_EQ(plain.weight_types.find("lane"), std::string::npos) << plain.weight_types;
  const auto bf16 = engine::LlamaWeights::load(*m, Compute::BF16, {.q8_lanes = true});
  EXPECT_NE(bf16.weight_types.find("not applied: it needs f32 compute"), std::string::npos)
      << bf16.weight_types;
  const auto w = engine::LlamaWeights::load(*m, Compute::F32, {.q8_lanes = true});
  const bool lanes = cpu::lanes_layout_fits(WeightType::Q8_0, 512, Compute::F32);
  if (!lanes) {
    EXPECT_NE(w.weight_types.find("not applied: this CPU lacks AVX512_VNNI"), std::string::npos)
        << w.weight_types;
  }
  const cpu::Linear& down = *w.layers[1].w_down;
  ASSERT_EQ(down.cols(), 512);
  EXPECT_EQ(down.describe().find("repacked") != std::string::npos, lanes) << down.describe();
  EXPECT_EQ(w.weight_types.find("repacked") != std::string::npos, lanes) << w.weight_types;
  EXPECT_EQ(w.arena != nullptr, lanes);
  EXPECT_EQ(w.layers[1].wq->describe().find("repacked"), std::string::npos);
  const cpu::Linear file(engine::weight_view(m->tensor("blk.1.ffn_down.weight")), Compute::F32);
  for (int64_t j : {0, 37, 511}) {
    const std::vector<float> got = column(down, j), want = column(file, j);
    for (size_t r = 0; r < got.size(); ++r) {
      ASSERT_NEAR(got[r], want[r], 1e-6f * (1.0f + std::abs(want[r])))
          << "row " << r << " col " << j;
    }
  }
}

// Without any option, f32 compute holds the q4_K matrices of a multiple of 512 columns (on an
// AVX512_VNNI CPU or a plain AVX2 one), the q5_K ones of 512 and the q6_K ones of a multiple
// of 256 (plain AVX2) in the lane layout, which their kernels read faster; each computes what the
// file's bytes say, and the others stay as the file has them.
TEST(LlamaWeightsLanes, KQuantMatricesOfWholeLaneGroupsAreRepackedByDefault) {
  const auto m = model::Model::open(process_model("micro", model::DType::Q4_K));
  const auto w = engine::LlamaWeights::load(*m, Compute::F32);
  int repacked[2] = {0, 0};  // q4_K, q6_K
  auto check = [&](const std::string& name, const cpu::Linear& lin) {
    const WeightType t = lin.weight_type();
    const bool want = (t == WeightType::Q4_K || t == WeightType::Q5_K || t == WeightType::Q6_K) &&
                      cpu::lanes_layout_fits(t, lin.cols(), Compute::F32);
    const bool got = lin.describe().find("repacked") != std::string::npos;
    EXPECT_EQ(got, want) << name << ": " << lin.describe();
    if (got && t != WeightType::Q5_K) ++repacked[t == WeightType::Q4_K ? 0 : 1];
    const cpu::Linear file(engine::weight_view(m->tensor(name)), Compute::F32);
    for (int64_t j : {int64_t{0}, lin.cols() / 3, lin.cols() - 1}) {
      const std::vector<float> have = column(lin, j), want_col = column(file, j);
      for (size_t r = 0; r < have.size(); ++r) {
        ASSERT_NEAR(have[r], want_col[r], 1e-6f * (1.0f + std::abs(want_col[r])))
            << name << " row " << r << " col " << j;
      }
    }
  };
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto& layer = w.layers[l];
    const std::pair<const char*, const cpu::Linear*> linears[] = {
        {"attn_q", layer.wq.get()},       {"attn_k", layer.wk.get()},
        {"attn_v", layer.wv.get()},       {"attn_output", layer.wo.get()},
        {"ffn_gate", layer.w_gate.get()}, {"ffn_up", layer.w_up.get()},
        {"ffn_down", layer.w_down.get()}};
    for (const auto& [short_name, lin] : linears) {
      check("blk." + std::to_string(l) + "." + short_name + ".weight", *lin);
    }
  }
  ASSERT_FALSE(m->config().tied_embeddings);
  check("output.weight", *w.output);  // q6_K in a q4_K file
  if (cpu::lanes_layout_fits(WeightType::Q4_K, 512, Compute::F32)) {
    EXPECT_GT(repacked[0], 0) << "the micro q4_k model has no q4_K matrix of 512 columns";
    EXPECT_NE(w.weight_types.find("q4_k"), std::string::npos) << w.weight_types;
  }
  if (cpu::lanes_layout_fits(WeightType::Q6_K, 256, Compute::F32)) {
    EXPECT_GT(repacked[1], 0) << "the micro q4_k model's output matrix is not q6_K";
    EXPECT_NE(w.weight_types.find("q6_k"), std::string::npos) << w.weight_types;
  }
  if (repacked[0] + repacked[1] > 0) {
    EXPECT_NE(w.weight_types.find("repacked to the lane layout"), std::string::npos)
        << w.weight_types;
  }
}

}  // namespace
}  // namespace bricks::testing
