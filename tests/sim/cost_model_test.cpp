// The roofline against step times worked out by hand on a round-numbered GPU and model
// (sim_test_support.h), the presets against published sizes, KV capacity and copy costs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/preset_names.h"
#include "sim/sim_error.h"
#include "sim_test_support.h"

namespace bricks::testing {
namespace {

using sim::CopyPath;
using sim::SeqWork;

// Efficiencies that are not 1, so the curves show: eff(T) = 0.5 * T / (T + 512).
sim::CostConstants curved_constants() {
  sim::CostConstants k = plain_constants();
  k.gemm_efficiency_max = 0.5;
  k.gemm_half_tokens = 512;
  k.attention_efficiency = 0.5;
  return k;
}

TEST(CostModel, PureDecodeIsWeightsPlusKvOverBandwidth) {
  const sim::CostModel m = round_cost_model();
  const std::vector<SeqWork> batch = {{1, 1000}};
  const sim::StepCost c = m.step(batch, 1);
  // Linear: 32 Mi weights * 2 B = 67108864 B, plus activations 1 token * 2 layers *
  // 20480 elements (qkv 4096, o 2048, gate/up 9216, down 5120) * 2 B = 81920 B, at 1 TB/s.
  EXPECT_NEAR(c.linear_s, 67.190784 * kUs, 1e-12);
  // Attention: read 1000 tokens' K/V and write 1: 1001 * 8192 B (2 layers * K,V * 8 heads *
  // 128 * 2 B).
  EXPECT_NEAR(c.attention_s, 8.200192 * kUs, 1e-12);
  // LM head: 1000 * 1024 weights * 2 B + 1000 f32 logits.
  EXPECT_NEAR(c.lm_head_s, 2.052 * kUs, 1e-12);
  EXPECT_EQ(c.comm_s, 0.0);
  EXPECT_NEAR(c.overhead_s, 1020 * kUs, 1e-12);  // 1 ms + 2 layers * 10 us
  EXPECT_NEAR(c.total_s, 1097.442976 * kUs, 1e-12);
  EXPECT_FALSE(c.calibrated);
}

TEST(CostModel, PrefillIsComputeBoundWithCausalAttention) {
  const sim::CostModel m = round_cost_model(1, curved_constants());
  const std::vector<SeqWork> batch = {{512, 512}};
  const sim::StepCost c = m.step(batch, 1);
  // Linear: 2 * 32 Mi * 512 FLOPs at 100 TFLOP/s * eff(512) = 0.25 (memory: 109 us).
  EXPECT_NEAR(c.linear_s, 1374.38953472 * kUs, 1e-12);
  // Attention: pairs = 512 * 513 / 2 = 131328; 4 * pairs * 128 * 8 heads * 2 layers FLOPs at
  // 50 TFLOP/s (memory: 8.4 us).
  EXPECT_NEAR(c.attention_s, 21.51677952 * kUs, 1e-12);
  // LM head on one row: 2 * 1024000 FLOPs at 100 TFLOP/s * eff(1) = 0.5 / 513.
  EXPECT_NEAR(c.lm_head_s, 21.01248 * kUs, 1e-12);
  EXPECT_NEAR(c.total_s, 2436.91879424 * kUs, 1e-12);
}

TEST(CostModel, MixedBatchAddsDecodeReadsToChunkCompute) {
  const sim::CostModel m = round_cost_model(1, curved_constants());
  // A decode at context 1000 and a 256-token chunk of a prompt whose first 512 are cached.
  const std::vector<SeqWork> batch = {{1, 1000}, {256, 768}};
  const sim::StepCost c = m.step(batch, 1);
  // Linear: 2 * 32 Mi * 257 / (100e12 * 0.5 * 257 / 769) = 2 * 32 Mi * 769 / 50e12.
  EXPECT_NEAR(c.linear_s, 1032.13432832 * kUs, 1e-12);
  // Attention: decode 1001 * 8192 B at 1 TB/s, plus the chunk's pairs
  // 256 * 512 + 256 * 257 / 2 = 163968 at 4 * 128 * 8 * 2 FLOPs each, 50 TFLOP/s.
  EXPECT_NEAR(c.attention_s, (8.200192 + 26.86451712) * kUs, 1e-12);
  EXPECT_NEAR(c.total_s, 2108.21151744 * kUs, 1e-12);
}

TEST(CostModel, TensorParallelSplitsWorkAndAddsTwoAllReducesPerLayer) {
  const sim::CostModel m = round_cost_model(2);
  const std::vector<SeqWork> batch = {{1, 1000}};
  const sim::StepCost c = m.step(batch, 1);
  // Half the weights (33554432 B) plus 12288 activation elements per layer per GPU.
  EXPECT_NEAR(c.linear_s, 33.603584 * kUs, 1e-12);
  // Half the KV heads: 1001 * 4096 B.
  EXPECT_NEAR(c.attention_s, 4.100096 * kUs, 1e-12);
  EXPECT_NEAR(c.lm_head_s, 1.026 * kUs, 1e-12);
  // 2 layers * 2 all-reduces * (2 * 1/2 * 2048 B / 100 GB/s + 5 us).
  EXPECT_NEAR(c.comm_s, 20.08192 * kUs, 1e-12);
  EXPECT_NEAR(c.total_s, 1078.8116 * kUs, 1e-12);
}

TEST(CostModel, StepTimeGrowsWithEveryDimension) {
  const sim::CostModel m = round_cost_model(1, curved_constants());
  const std::vector<SeqWork> one = {{1, 1000}};
  const std::vector<SeqWork> longer = {{1, 4000}};
  const std::vector<SeqWork> two = {{1, 1000}, {1, 1000}};
  const std::vector<SeqWork> prefill = {{1, 1000}, {64, 64}};
  EXPECT_LT(m.step(one, 1).total_s, m.step(longer, 1).total_s);
  EXPECT_LT(m.step(one, 1).total_s, m.step(two, 2).total_s);
  EXPECT_LT(m.step(two, 2).total_s, m.step(prefill, 2).total_s);
}

TEST(CostModel, RejectsTensorParallelThatDoesNotDivideTheModel) {
  EXPECT_THROW(round_cost_model(3), sim::SimError);
  EXPECT_THROW(round_cost_model(0), sim::SimError);
  try {
    sim::CostModelOptions o;
    o.tensor_parallel = 3;
    sim::CostModel(sim::gpu_preset("a100-80gb"), sim::model_preset("mistral-7b"), o);
    FAIL() << "tp=3 accepted";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("does not divide"), std::string::npos) << e.what();
  }
}

// The generic constants against Vidur's measured A100 GEMMs (tests/data/vidur-a100): the
// linear layers of one Llama-2-7B layer take 0.266 ms at batch 1 and 3.82 ms at 2048 tokens.
TEST(CostModel, Llama2DecodeOnA100IsWeightsOverBandwidthPlusOverheads) {
  const sim::CostModel m(sim::gpu_preset("a100-80gb"), sim::model_preset("llama-2-7b"));
  const std::vector<SeqWork> decode = {{1, 512}};
  const sim::StepCost c = m.step(decode, 1);
  const double weights_time = static_cast<double>(m.model().linear_params()) * 2 /
                              (2039e9 * m.constants().memory_efficiency);
  // Reading the weights, plus a fixed latency per GEMM (4 per layer).
  EXPECT_GT(c.linear_s, weights_time + 4 * 32 * m.constants().gemm_latency_s);
  EXPECT_NEAR(c.linear_s, 32 * 0.266e-3, 32 * 0.266e-3 * 0.15);
  EXPECT_GT(c.total_s, c.linear_s);
  EXPECT_LT(c.total_s, 12e-3);

  // A 2048-token prefill is compute-bound: its linear time is above the FLOP time at the
  // largest GEMMs' efficiency, and far above the time to read the weights.
  const std::vector<SeqWork> prefill = {{2048, 2048}};
  const sim::StepCost p = m.step(prefill, 1);
  const double flop_time = 2.0 * static_cast<double>(m.model().linear_params()) * 2048 /
                           (312e12 * m.constants().gemm_efficiency_max);
  EXPECT_GT(p.linear_s, flop_time);
  EXPECT_NEAR(p.linear_s, 32 * 3.82e-3, 32 * 3.82e-3 * 0.15);
  EXPECT_GT(p.linear_s, 10 * weights_time);
}

TEST(CostModel, CopiesChargeLatencyPerLayerAndKvPlusBytesOverTheLink) {
  const sim::CostModel m = round_cost_model();
  // One block of 16 tokens: 2 layers * (K, V) = 4 transfers of 16 * 8 * 128 * 2 = 32768 B,
  // each 10 us + 32768 B / 10 GB/s.
  EXPECT_NEAR(m.kv_copy_seconds(16, CopyPath::kHostDevice), 4 * (10 + 3.2768) * kUs, 1e-12);
  // Within the device: read and write at 1 TB/s.
  EXPECT_NEAR(m.kv_copy_seconds(16, CopyPath::kDeviceDevice), 4 * (10 + 0.065536) * kUs, 1e-12);
  // One run of 8 blocks costs less than 8 runs of one block (block-group swaps).
  EXPECT_LT(m.kv_copy_seconds(128, CopyPath::kHostDevice),
            8 * m.kv_copy_seconds(16, CopyPath::kHostDevice));
  EXPECT_EQ(m.kv_copy_seconds(0, CopyPath::kHostDevice), 0.0);
}

TEST(CostModel, KvCapacityIsMemoryLessWeightsAndReserve) {
  const sim::CostModel m(sim::gpu_preset("a100-80gb"), sim::model_preset("mistral-7b"));
  const double budget = 81920.0 * 1024 * 1024 * 0.9;
  const double weights = static_cast<double>(m.model().weight_bytes_total());
  // Reserve: 1 GiB + 4096 tokens * (2 * 4096 residual + 69632 layer activations) * 2 B.
  const double reserve = (1ll << 30) + 4096.0 * (8192 + 69632) * 2;
  const int64_t per_token = 2 * 32 * 8 * 128 * 2;  // f16 K and V of every layer
  const auto tokens = static_cast<int64_t>((budget - weights - reserve) / per_token);
  EXPECT_EQ(m.kv_capacity_bytes(0.9), tokens * per_token);
  EXPECT_GT(m.kv_capacity_bytes(0.9), 55ll << 30);  // about 57 GiB
  EXPECT_LT(m.kv_capacity_bytes(0.5), m.kv_capacity_bytes(0.9));
  EXPECT_THROW(m.kv_capacity_bytes(0.0), sim::SimError);
  EXPECT_THROW(m.kv_capacity_bytes(1.5), sim::SimError);
}

TEST(CostModel, SeventyBillionNeedsTwoA100s) {
  const sim::CostModel one(sim::gpu_preset("a100-80gb"), sim::model_preset("llama-2-70b"));
  try {
    one.kv_capacity_bytes(0.9);
    FAIL() << "140 GB of weights fit on one 80 GB GPU";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("raise tensor_parallel"), std::string::npos) << e.what();
  }
  sim::CostModelOptions o;
  o.tensor_parallel = 2;
  const sim::CostModel two(sim::gpu_preset("a100-80gb"), sim::model_preset("llama-2-70b"), o);
  EXPECT_GT(two.kv_capacity_bytes(0.9), 8ll << 30);
  // 8 KV heads on 8 GPUs: one each; the engine's accounting stays the whole model's.
  o.tensor_parallel = 8;
  const sim::CostModel eight(sim::gpu_preset("a100-80gb"), sim::model_preset("llama-2-70b"), o);
  EXPECT_EQ(eight.kv_bytes_per_token_per_gpu(), 2 * 80 * 1 * 128 * 2);
  EXPECT_EQ(eight.kv_capacity_bytes(0.9) % eight.model().kv_bytes_per_token(2), 0);
}

TEST(Presets, ParameterCountsMatchThePublishedSizes) {
  const std::vector<std::pair<std::string, double>> published = {
      {"llama-2-7b", 6.74e9}, {"llama-2-13b", 13.0e9}, {"llama-2-70b", 69.0e9},
      {"mistral-7b", 7.24e9}, {"llama-3-8b", 8.03e9},  {"llama-3-70b", 70.6e9},
      {"yi-34b", 34.4e9},     {"opt-13b", 12.85e9}, {"opt-66b", 65.7e9}};
  for (const auto& [name, params] : published) {
    const double got = static_cast<double>(sim::model_preset(name).total_params());
    EXPECT_NEAR(got, params, params * 0.02) << name;
  }
  EXPECT_NEAR(static_cast<double>(sim::model_preset("llama-2-7b").total_params()), 6.7e9,
              6.7e9 * 0.02);
}

TEST(Presets, ShapesAreConsistent) {
  for (const sim::ModelSpec& m : sim::model_presets()) {
    const model::LlamaConfig& c = m.config;
    EXPECT_EQ(c.n_heads * c.head_dim, c.hidden) << m.name;
    EXPECT_EQ(c.n_heads % c.n_kv_heads, 0) << m.name;
    EXPECT_EQ(c.head_dim, 128) << m.name;
    EXPECT_EQ(m.weight_bytes, 2) << m.name;
    EXPECT_GT(c.context_length, 0) << m.name;
    EXPECT_EQ(m.gated_ffn, c.arch != "opt") << m.name;
  }
  EXPECT_EQ(sim::model_preset("mistral-7b").kv_bytes_per_token(2), 128 * 1024);
  // OPT's FFN is two matrices: fewer linear weights than a gated FFN of the same width.
  sim::ModelSpec gated = sim::model_preset("opt-13b");
  gated.gated_ffn = true;
  EXPECT_LT(sim::model_preset("opt-13b").linear_params_per_layer(),
            gated.linear_params_per_layer());
}

TEST(Presets, EveryNameHasAPresetInOrder) {
  ASSERT_EQ(sim::gpu_presets().size(), sim::kGpuPresetNames.size());
  for (size_t i = 0; i < sim::kGpuPresetNames.size(); ++i) {
    EXPECT_EQ(sim::gpu_presets()[i].name, sim::kGpuPresetNames[i]);
  }
  ASSERT_EQ(sim::model_presets().size(), sim::kModelPresetNames.size());
  for (size_t i = 0; i < sim::kModelPresetNames.size(); ++i) {
    EXPECT_EQ(sim::model_presets()[i].name, sim::kModelPresetNames[i]);
  }
  EXPECT_DOUBLE_EQ(sim::gpu_preset("a10g").price_per_hour, 1.01);
  EXPECT_DOUBLE_EQ(sim::gpu_preset("a100-80gb").price_per_hour, 3.67);
  EXPECT_GT(sim::gpu_preset("h100-80gb").bf16_flops, sim::gpu_preset("a100-80gb").bf16_flops);
  try {
    sim::gpu_preset("v100");
    FAIL() << "unknown GPU accepted";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("a100-80gb"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sim::model_preset("gpt-5"), sim::SimError);
}

}  // namespace
}  // namespace bricks::testing
