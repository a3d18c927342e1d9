// scheduler/batchllm: memory-centric admission, preemption (recompute and swap) and the
// prefix pin, on the simulated engine.
#include <gtest/gtest-spi.h>

#include "batchllm_fixture.h"

namespace bricks::testing {
namespace {

class BatchLlmMemory : public BatchLlmTest {
 protected:
  // Requests admitted in the first step.
  int32_t admitted_first_step() {
    EXPECT_TRUE(step());
    return static_cast<int32_t>(e_->last().items.size());
  }
};

TEST_F(BatchLlmMemory, ProjectedKvUseNotACountDecidesHowManyStart) {
  // 64 blocks of 4 tokens; reserve_ratio 1 reserves every output still to come.
  const std::vector<ParamSetting> params = {int_param("token_budget", 1024),
                                            int_param("max_num_seqs", 64),
                                            float_param("reserve_ratio", 1.0)};
  // Small requests peak at 4 + 3 = 7 tokens, 2 blocks: 32 fit.
  ASSERT_NO_FATAL_FAILURE(make("batchllm", params, "paged", 64, {64, 1024}));
  for (uint64_t id = 1; id <= 60; ++id) e_->add({id, 0, family_prompt(0, 0, id, 4), 4});
  EXPECT_EQ(admitted_first_step(), 32);
  // Large ones peak at 32 + 31 = 63 tokens, 16 blocks: 4 fit.
  ASSERT_NO_FATAL_FAILURE(make("batchllm", params, "paged", 64, {64, 1024}));
  for (uint64_t id = 1; id <= 60; ++id) e_->add({id, 0, family_prompt(0, 0, id, 32), 32});
  EXPECT_EQ(admitted_first_step(), 4);
  // max_num_seqs stays an upper bound.
  ASSERT_NO_FATAL_FAILURE(make("batchllm",
                               {int_param("token_budget", 1024), int_param("max_num_seqs", 5),
                                float_param("reserve_ratio", 1.0)},
                               "paged", 64, {5, 1024}));
  for (uint64_t id = 1; id <= 60; ++id) e_->add({id, 0, family_prompt(0, 0, id, 4), 4});
  EXPECT_EQ(admitted_first_step(), 5);
}

WorkloadShape pressure() {
  WorkloadShape w;
  w.num_requests = 40;
  w.max_prompt = 40;
  w.max_new = 40;
  w.num_prefix_groups = 0;
  w.arrival_spread = 10;
  return w;
}

TEST_F(BatchLlmMemory, ReservingWholeOutputsNeverPreempts) {
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_NO_FATAL_FAILURE(make("batchllm",
                                 {int_param("token_budget", 64), int_param("max_num_seqs", 16),
                                  float_param("reserve_ratio", 1.0)},
                                 "prefix_tree", 48, {16, 64}));
    for (SimRequestSpec& s : random_workload(seed, pressure())) e_->add(std::move(s));
    ASSERT_NO_FATAL_FAILURE(run_all());
    EXPECT_EQ(e_->counters().recompute_preemptions + e_->counters().swap_preemptions, 0);
  }
  // Admitting on current tokens only runs into preemption on the same job.
  int64_t preemptions = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    ASSERT_NO_FATAL_FAILURE(make("batchllm",
                                 {int_param("token_budget", 64), int_param("max_num_seqs", 16),
                                  float_param("reserve_ratio", 0.0)},
                                 "prefix_tree", 48, {16, 64}));
    for (SimRequestSpec& s : random_workload(seed, pressure())) e_->add(std::move(s));
    ASSERT_NO_FATAL_FAILURE(run_all());
    preemptions += e_->counters().recompute_preemptions + e_->counters().swap_preemptions;
  }
  EXPECT_GT(preemptions, 0);
}

TEST_F(BatchLlmMemory, AutoPreemptionSwapsWhenTheKvBrickCan) {
  const std::vector<ParamSetting> params = {int_param("token_budget", 64),
                                            int_param("max_num_seqs", 16),
                                            float_param("reserve_ratio", 0.0)};
  ASSERT_NO_FATAL_FAILURE(make("batchllm", params, "prefix_tree", 48, {16, 64}, 64));
  for (SimRequestSpec& s : random_workload(2, pressure())) e_->add(std::move(s));
  ASSERT_NO_FATAL_FAILURE(run_all());
  EXPECT_GT(e_->counters().swap_preemptions, 0);
  EXPECT_EQ(e_->counters().swap_ins, e_->counters().swap_preemptions);
  EXPECT_EQ(e_->kv_stats().free_host_blocks, 64);

  std::vector<ParamSetting> recompute = params;
  recompute.push_back(string_param("preemption", "recompute"));
  ASSERT_NO_FATAL_FAILURE(make("batchllm", recompute, "prefix_tree", 48, {16, 64}, 64));
  for (SimRequestSpec& s : random_workload(2, pressure())) e_->add(std::move(s));
  ASSERT_NO_FATAL_FAILURE(run_all());
  EXPECT_EQ(e_->counters().swap_preemptions, 0);
  EXPECT_GT(e_->counters().recompute_preemptions, 0);
}

TEST_F(BatchLlmMemory, NextGroupsPrefixIsPinnedUntilItsLastMemberIsAdmitted) {
  for (const bool pin : {true, false}) {
    SCOPED_TRACE(pin ? "pinned" : "not pinned");
    ASSERT_NO_FATAL_FAILURE(make("batchllm",
                                 {int_param("max_num_seqs", 2), bool_param("pin_prefixes", pin)},
                                 "prefix_tree", 32, {2, 2048}));
    // A decode-heavy request first, then a family of three sharing 16 tokens (4 blocks), one
    // output each: with two sequences at most, the family comes one by one.
    e_->add({1, 0, family_prompt(0, 0, 1, 4), 30});
    for (uint64_t id = 2; id <= 4; ++id) e_->add({id, 0, family_prompt(1, 16, id, 3), 1});
    ASSERT_TRUE(step());  // 1 and the leader 2, which finishes
    ASSERT_TRUE(step());  // 3 from the cache; 4 waits for a free sequence slot
    ASSERT_EQ(admission_order(), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(admissions_[2].cached, 16);
    // Request 1 holds 2 blocks; the pin holds the prefix's 4 though no request does.
    const bricks_kv_stats s = e_->kv_stats();
    EXPECT_EQ(s.free_device_blocks, s.num_device_blocks - 2 - (pin ? 4 : 0));
    ASSERT_NO_FATAL_FAILURE(run_all());
    EXPECT_EQ(admissions_[3].cached, 16);
    EXPECT_EQ(e_->kv_stats().free_device_blocks, e_->kv_stats().num_device_blocks)
        << "the pin is released once the family is admitted";
  }
}

TEST_F(BatchLlmMemory, OversizedRequestsFailAloneAndBadParamsAreRefused) {
  ASSERT_NO_FATAL_FAILURE(make("batchllm", {}, "prefix_tree", 16, {256, 2048}));
  e_->add({1, 0, family_prompt(0, 0, 1, 8), 4});
  e_->add({2, 0, family_prompt(0, 0, 2, 16 * 4 + 1), 4});
  ASSERT_TRUE(step());
  ASSERT_EQ(e_->last().failed, (std::vector<uint64_t>{2}));
  EXPECT_NE(e_->request(2).reason.find("more than the whole pool"), std::string::npos);
  e_->run(100);
  EXPECT_EQ(e_->request(1).outcome, SimOutcome::kFinished);

  EXPECT_NONFATAL_FAILURE(
      create_brick(BRICKS_KIND_SCHEDULER, "batchllm", {float_param("reserve_ratio", 1.5)}), "");
}

}  // namespace
}  // namespace bricks::testing
