// The step time of the cost model with streamed layers: the transfers add to the compute
// without overlap and hide behind earlier layers with it, as layer_pipeline says; the KV
// capacity counts only the resident weights; nothing changes when no tier is set.
#include <gtest/gtest.h>

#include <vector>

#include "sim/sim_error.h"
#include "tiers_test_support.h"

namespace bricks::testing {
namespace {

constexpr double kHostLayerS = 3365.8528e-6;  // 10 us + 33,558,528 B / 10 GB/s
constexpr double kSsdLayerS = 16879.264e-6;   // 100 us + 33,558,528 B / 2 GB/s

// One resident layer, two in host memory, one on the SSD: [GPU, host, host, SSD].
sim::WeightTierOptions one_resident(bool overlap) {
  sim::WeightTierOptions o;
  o.gpu_weight_bytes = kFixedBytes + 3 * kLayerBytes;
  o.host_memory_bytes = 2 * kLayerBytes;
  o.ssd = round_ssd();
  o.overlap = overlap;
  return o;
}

const std::vector<sim::SeqWork> kDecode = {{1, 1000}};

TEST(TieredStep, TheModelKnowsItsPlacementAndTransfers) {
  const sim::CostModel m = four_layer_cost_model(one_resident(false));
  EXPECT_EQ(m.placement().gpu_layers, 1);
  EXPECT_EQ(m.placement().host_layers, 2);
  EXPECT_EQ(m.placement().ssd_layers, 1);
  const std::vector<double>& t = m.layer_transfer_seconds();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0], 0);
  EXPECT_NEAR(t[1], kHostLayerS, 1e-12);
  EXPECT_NEAR(t[2], kHostLayerS, 1e-12);
  EXPECT_NEAR(t[3], kSsdLayerS, 1e-12);
  EXPECT_NE(m.describe().find("1 on GPU, 2 in host memory, 1 on round-ssd"), std::string::npos)
      << m.describe();
}

TEST(TieredStep, WithoutOverlapTheStepAddsEveryTransfer) {
  const sim::StepCost base = four_layer_cost_model({}).step(kDecode, 1);
  const sim::StepCost s = four_layer_cost_model(one_resident(false)).step(kDecode, 1);
  EXPECT_NEAR(s.weight_transfer_s, 2 * kHostLayerS + kSsdLayerS, 1e-12);
  EXPECT_EQ(s.weight_hidden_s, 0);
  EXPECT_NEAR(s.total_s, base.total_s + 2 * kHostLayerS + kSsdLayerS, 1e-12);
  // The compute parts are those of the model with every weight on the GPU.
  EXPECT_EQ(s.linear_s, base.linear_s);
  EXPECT_EQ(s.attention_s, base.attention_s);
}

TEST(TieredStep, WithOverlapLayersWaitOnlyForTheirOwnTransfer) {
  const sim::StepCost base = four_layer_cost_model({}).step(kDecode, 1);
  const sim::StepCost s = four_layer_cost_model(one_resident(true)).step(kDecode, 1);
  // Per layer c = (linear + attention + comm) / 4 + 10 us, far below a transfer, so:
  // layer 0 computes 0..c; layer 1 arrives at h and computes to h + c; layer 2 arrives at
  // 2h and computes to 2h + c; layer 3's copy starts at 2h (its buffer freed at h + c),
  // arrives at 2h + d and computes to 2h + d + c. Then the output projection and the
  // step's overhead.
  const double c = (base.linear_s + base.attention_s + base.comm_s) / 4 + 10e-6;
  ASSERT_LT(c, kHostLayerS);
  const double layers = 2 * kHostLayerS + kSsdLayerS + c;
  EXPECT_NEAR(s.total_s, layers + base.lm_head_s + 1e-3, 1e-12);
  EXPECT_NEAR(s.weight_transfer_s, 2 * kHostLayerS + kSsdLayerS, 1e-12);
  EXPECT_NEAR(s.weight_hidden_s, 3 * c, 1e-12);  // 4c + transfers - layers
  // The parts add up: work + transfers = total + hidden.
  const double work = s.linear_s + s.attention_s + s.lm_head_s + s.comm_s + s.overhead_s;
  EXPECT_NEAR(work + s.weight_transfer_s, s.total_s + s.weight_hidden_s, 1e-12);
}

TEST(TieredStep, KvCapacityCountsResidentWeightsAndStagingOnly) {
  // The streamed model holds the fixed part, one layer and two buffers: one layer less than
  // the whole model, so one layer's bytes more go to KV (16,384 B per token over 4 layers).
  const double per_token = 4 * 2 * 8 * 128 * 2;
  const double base = static_cast<double>(four_layer_cost_model({}).kv_capacity_bytes(0.9));
  const double tiered =
      static_cast<double>(four_layer_cost_model(one_resident(false)).kv_capacity_bytes(0.9));
  EXPECT_NEAR((tiered - base) / per_token, kLayerBytes / per_token, 1.0);
}

TEST(TieredStep, NoTierMeansTheSameModelAsBefore) {
  // round_cost_model's decode, as cost_model_test computes it by hand.
  const sim::StepCost s = round_cost_model().step(kDecode, 1);
  EXPECT_NEAR(s.total_s, 1097.442976 * kUs, 1e-12);
  EXPECT_EQ(s.weight_transfer_s, 0);
  // An SSD or host memory that the weights do not need changes nothing either.
  sim::WeightTierOptions o;
  o.ssd = round_ssd();
  o.host_memory_bytes = 1e12;
  const sim::CostModel with = four_layer_cost_model(o);
  const sim::CostModel without = four_layer_cost_model({});
  EXPECT_FALSE(with.placement().streams());
  EXPECT_EQ(with.step(kDecode, 1).total_s, without.step(kDecode, 1).total_s);
  EXPECT_EQ(with.kv_capacity_bytes(0.9), without.kv_capacity_bytes(0.9));
}

TEST(TieredStep, AutomaticBudgetLeavesOneFullContextOfKv) {
  // No weight_memory_bytes: weights get the memory left after the reserve and the KV of
  // one 4096-token sequence. Reserve: 1 GiB + 4096 tokens x 45,056 B of activations
  // = 1,258,291,200 B; one context of KV: 4096 x 16,384 B = 67,108,864 B. A GPU of
  // 1,446,952,960 B leaves F + 3.5 layers: the fixed part, two buffers and 1 resident layer.
  sim::GpuSpec g = round_gpu();
  g.memory_bytes = 1446952960;
  sim::CostModelOptions o;
  o.constants = plain_constants();
  o.tiers.host_memory_bytes = 1e12;
  o.tiers.gpu_memory_utilization = 1.0;
  const sim::CostModel m(g, four_layer_model(), o);
  EXPECT_EQ(m.placement().gpu_layers, 1);
  EXPECT_EQ(m.placement().host_layers, 3);
  // KV: 1,446,952,960 - (F + 3 layers) - reserve = 83,888,128 B: 5120 whole tokens.
  EXPECT_EQ(m.kv_capacity_bytes(1.0), 5120 * 16384);
  g.memory_bytes = 1e9;  // below the reserve: no room for even the fixed part
  EXPECT_THROW(sim::CostModel(g, four_layer_model(), o), sim::TierError);
}

TEST(TieredStep, APipelineIsRefusedWithTiers) {
  sim::CostModelOptions o;
  o.constants = plain_constants();
  o.tiers = one_resident(true);
  o.pipeline = {{2, 100e9, 0}, {2, 0, 0}};
  EXPECT_THROW(sim::CostModel(round_gpu(), four_layer_model(), o), sim::TierError);
}

}  // namespace
}  // namespace bricks::testing
