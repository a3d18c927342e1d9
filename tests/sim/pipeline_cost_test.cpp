// Pipeline parallelism in the cost model (sim/pipeline.h): the stage, transfer, fill and
// bottleneck terms against step times worked out by hand on the round GPU and model
// (sim_test_support.h: 2 layers, hidden 1024, plain constants), the micro-batch split, and
// memory and copies per stage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/pipeline.h"
#include "sim/sim_error.h"
#include "sim_test_support.h"

namespace bricks::testing {
namespace {

using sim::PipelineStage;
using sim::SeqWork;

// Two stages of one layer each, 10 GB/s and 5 us between them.
sim::CostModel two_stage_model(int32_t micro_batches = 0) {
  sim::CostModelOptions o;
  o.constants = plain_constants();
  o.pipeline = {PipelineStage{1, 10e9, 5e-6}, PipelineStage{1, 0, 0}};
  o.micro_batches = micro_batches;
  return sim::CostModel(round_gpu(), round_model(), o);
}

TEST(PipelineTerms, EvenLayersGiveTheRemainderToTheFirstStages) {
  EXPECT_EQ(sim::even_layers(10, 3), (std::vector<int32_t>{4, 3, 3}));
  EXPECT_EQ(sim::even_layers(80, 2), (std::vector<int32_t>{40, 40}));
  EXPECT_EQ(sim::even_layers(3, 3), (std::vector<int32_t>{1, 1, 1}));
}

TEST(PipelineTerms, StepIsTheLargerOfFillAndBottleneck) {
  // Two micro-batches on two stages: trips 1 + 2 and 3 + 1, stage loads 1 + 3 and 2 + 1.
  EXPECT_DOUBLE_EQ(sim::pipeline_seconds({{1, 2}, {3, 1}}), 4.0);
  // Equal micro-batches on a stage slower than the rest: the bottleneck, 2 x 5.
  EXPECT_DOUBLE_EQ(sim::pipeline_seconds({{5, 1}, {5, 1}}), 10.0);
  // One micro-batch: its trip through every stage (the bubble of a lone batch).
  EXPECT_DOUBLE_EQ(sim::pipeline_seconds({{2, 3, 4}}), 9.0);
  EXPECT_DOUBLE_EQ(sim::pipeline_seconds({}), 0.0);
}

TEST(PipelineTerms, MicroBatchesSplitTokensEvenlyAndKeepEveryGroupNonEmpty) {
  const std::vector<SeqWork> equal = {{1, 10}, {1, 10}, {1, 10}, {1, 10}};
  EXPECT_EQ(sim::split_micro_batches(equal, 2), (std::vector<size_t>{0, 2, 4}));
  EXPECT_EQ(sim::split_micro_batches(equal, 3), (std::vector<size_t>{0, 1, 2, 4}));
  // A 512-token chunk is a micro-batch of its own; the decodes share the other.
  const std::vector<SeqWork> mixed = {{512, 512}, {1, 10}, {1, 10}, {1, 10}};
  EXPECT_EQ(sim::split_micro_batches(mixed, 2), (std::vector<size_t>{0, 1, 4}));
  // More micro-batches than sequences: one each.
  EXPECT_EQ(sim::split_micro_batches(std::vector<SeqWork>{{1, 10}, {1, 10}}, 4),
            (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(sim::split_micro_batches({}, 2), (std::vector<size_t>{0}));
}

TEST(PipelineCost, OneDecodeCrossesBothStagesAndTheLinkOnce) {
  const sim::CostModel m = two_stage_model();
  const std::vector<SeqWork> batch = {{1, 1000}};
  const sim::StepCost c = m.step(batch, 1);
  // One sequence is one micro-batch. Unsplit, its linear layers take 67.190784 us and its
  // attention 8.200192 us over 2 layers: 37.695488 us per layer, plus 10 us of overhead.
  // Stage 0: 47.695488 us and its send: 5 us + 1 token * 1024 * 2 B / 10 GB/s = 5.2048 us.
  // Stage 1: 47.695488 us and the LM head, 2.052 us.
  EXPECT_NEAR(c.transfer_s, 5.2048 * kUs, 1e-12);
  EXPECT_NEAR(c.total_s, (1000 + 52.900288 + 49.747488) * kUs, 1e-12);
  // The parts are the whole model's work plus the send; nothing overlapped.
  EXPECT_NEAR(c.linear_s, 67.190784 * kUs, 1e-12);
  EXPECT_NEAR(c.attention_s, 8.200192 * kUs, 1e-12);
  EXPECT_NEAR(c.lm_head_s, 2.052 * kUs, 1e-12);
  EXPECT_NEAR(c.overhead_s, 1020 * kUs, 1e-12);
  EXPECT_NEAR(c.pipeline_overlap_s, 0.0, 1e-12);
}

TEST(PipelineCost, MicroBatchesOverlapAndTheBusiestStageSetsTheStep) {
  const sim::CostModel m = two_stage_model();  // one micro-batch per stage: 2
  const std::vector<SeqWork> batch(4, SeqWork{1, 1000});
  const sim::StepCost c = m.step(batch, 4);
  // Each micro-batch is 2 decodes: linear (67108864 B of weights + 2 tokens * 2 layers *
  // 20480 elements * 2 B) at 1 TB/s = 67.272704 us, attention 2 * 1001 * 8192 B =
  // 16.400384 us, LM head on 2 rows 2.056 us. Per layer 41.836544 us + 10 us.
  // Stage 0: 51.836544 + send (5 + 4096 B / 10 GB/s = 5.4096) = 57.246144 us per
  // micro-batch; stage 1: 51.836544 + 2.056 = 53.892544 us.
  // Fill: 57.246144 + 53.892544 = 111.138688; bottleneck: 2 * 57.246144 = 114.492288.
  EXPECT_NEAR(c.total_s, (1000 + 114.492288) * kUs, 1e-12);
  EXPECT_NEAR(c.transfer_s, 2 * 5.4096 * kUs, 1e-12);
  // The work (two micro-batches through both stages) is 222.277376 us beyond the step's
  // 1 ms; the step took 114.492288 us of it.
  EXPECT_NEAR(c.pipeline_overlap_s, (222.277376 - 114.492288) * kUs, 1e-12);
  const double parts =
      c.linear_s + c.attention_s + c.lm_head_s + c.comm_s + c.transfer_s + c.overhead_s;
  EXPECT_NEAR(parts, c.total_s + c.pipeline_overlap_s, 1e-12);

  // One micro-batch instead: no overlap, the trip of the whole batch.
  const sim::StepCost one = two_stage_model(1).step(batch, 4);
  EXPECT_NEAR(one.pipeline_overlap_s, 0.0, 1e-12);
  EXPECT_GT(one.total_s, c.total_s);
}

TEST(PipelineCost, ASlowLinkSlowsTheStepByItsTransfers) {
  sim::CostModelOptions o;
  o.constants = plain_constants();
  o.pipeline = {PipelineStage{1, 1e9, 50e-6}, PipelineStage{1, 0, 0}};
  const sim::CostModel slow(round_gpu(), round_model(), o);
  const std::vector<SeqWork> chunk = {{512, 512}};
  const sim::StepCost fast_step = two_stage_model().step(chunk, 1);
  const sim::StepCost slow_step = slow.step(chunk, 1);
  // 512 tokens * 2 KiB = 1048576 B: 104.8576 us at 10 GB/s + 5 us against 1048.576 us at
  // 1 GB/s + 50 us; one micro-batch, so the difference is all on the step.
  EXPECT_NEAR(slow_step.total_s - fast_step.total_s, (1098.576 - 109.8576) * kUs, 1e-12);
}

TEST(PipelineCost, EachStageHoldsItsLayersWeightsAndKv) {
  const sim::CostModel m = two_stage_model();
  const double budget = 64.0 * (1ll << 30) * 0.9;
  // Reserve: 1 GiB + 4096 tokens * (2 * 1024 + 20480) activation elements * 2 B.
  const double reserve = (1ll << 30) + 4096.0 * 22528 * 2;
  // Stage 1 is the fuller: one layer (16 Mi linear weights + 2 norms of 1024), the final
  // norm and the 1000 x 1024 output projection, 2 B each; its GPU keeps 1 layer's KV,
  // 2 * 8 heads * 128 * 2 B = 4096 B per token.
  const double stage1 = (16777216.0 + 2048 + 1024 + 1024000) * 2;
  const auto tokens = static_cast<int64_t>((budget - stage1 - reserve) / 4096);
  EXPECT_EQ(m.kv_capacity_bytes(0.9), tokens * 8192);  // the engine counts both layers
  // Twice the tokens of one GPU holding both layers, give or take the weights.
  EXPECT_GT(m.kv_capacity_bytes(0.9), 19 * round_cost_model().kv_capacity_bytes(0.9) / 10);
  // A copy moves each stage's one layer at the same time: half the unsplit time.
  EXPECT_NEAR(m.kv_copy_seconds(16, sim::CopyPath::kHostDevice), 2 * (10 + 3.2768) * kUs, 1e-12);
  EXPECT_EQ(m.describe(), "round-model on 1x round-gpu x 2 stages (1+1 layers), roofline");
}

TEST(PipelineCost, RejectsStagesThatDoNotAddUpOrHaveNoLink) {
  auto make = [](std::vector<PipelineStage> stages) {
    sim::CostModelOptions o;
    o.constants = plain_constants();
    o.pipeline = std::move(stages);
    return sim::CostModel(round_gpu(), round_model(), o);
  };
  EXPECT_THROW(make({{1, 10e9, 0}, {2, 0, 0}}), sim::SimError);
  EXPECT_THROW(make({{2, 10e9, 0}, {0, 0, 0}}), sim::SimError);
  try {
    make({{1, 0, 0}, {1, 0, 0}});
    FAIL() << "a stage without a link to the next was accepted";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("link to the next stage"), std::string::npos) << e.what();
  }
  sim::CostModel m = two_stage_model();
  const sim::CalibrationTable table = sim::CalibrationTable::parse(
      "num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds\n0,1,100,0.01\n", "t.csv");
  EXPECT_THROW(m.set_calibration(table), sim::SimError);
}

}  // namespace
}  // namespace bricks::testing
