// scheduler/fcfs: the policy, step by step, on the simulated engine with kv/paged.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "sim_engine.h"

namespace bricks::testing {
namespace {

class FcfsPolicy : public ::testing::Test {
 protected:
  // fcfs with `params` wired to kv/paged (block_size 4) over `blocks` device blocks.
  void make(std::vector<ParamSetting> params, int32_t blocks, int32_t host_blocks = 0) {
    int32_t seqs = 256, budget = 2048;
    for (const auto& p : params) {
      if (p.name == "max_num_seqs") seqs = static_cast<int32_t>(p.value.i);
      if (p.name == "max_num_batched_tokens") budget = static_cast<int32_t>(p.value.i);
    }
    kv_ = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 4)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "fcfs", params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{blocks, host_blocks},
                                     SimLimits{seqs, budget});
  }
  void add(uint64_t id, int64_t arrival, int32_t prompt, int32_t max_new, int32_t token = 0) {
    std::vector<int32_t> tokens(static_cast<size_t>(prompt));
    for (int32_t i = 0; i < prompt; ++i)
      tokens[static_cast<size_t>(i)] = (token ? token : static_cast<int32_t>(id) * 1000) + i;
    e_->add({id, arrival, std::move(tokens), max_new});
  }
  // The last step's items as (id, tokens) in batch order.
  std::vector<std::pair<uint64_t, int32_t>> items() const {
    std::vector<std::pair<uint64_t, int32_t>> out;
    for (const auto& it : e_->last().items) out.emplace_back(it.request_id, it.num_tokens);
    return out;
  }
  using Items = std::vector<std::pair<uint64_t, int32_t>>;

  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
};

TEST_F(FcfsPolicy, PrefillsRunBeforeDecodes) {
  ASSERT_NO_FATAL_FAILURE(make({}, 64));
  add(1, 0, 8, 6);
  add(2, 0, 8, 6);
  add(3, 2, 5, 6);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 8}, {2, 8}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{3, 5}})) << "a new prompt stalls the decodes for one step";
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 1}}));
}

TEST_F(FcfsPolicy, ChunkedPrefillRunsDecodesFirstAndChunksThePrompt) {
  ASSERT_NO_FATAL_FAILURE(make(
      {int_param("max_num_batched_tokens", 10), bool_param("enable_chunked_prefill", true)}, 64));
  add(1, 0, 4, 9);
  add(2, 0, 4, 9);
  add(3, 2, 20, 2);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 4}, {2, 4}}));
  ASSERT_TRUE(e_->step());
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 8}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 8}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 4}}));
  EXPECT_EQ(e_->request(3).num_generated, 1);
}

TEST_F(FcfsPolicy, NoSkippingAheadOfTheFirstWaitingRequest) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_batched_tokens", 16)}, 64));
  add(1, 0, 12, 3);
  add(2, 0, 10, 3);  // does not fit next to 1
  add(3, 0, 2, 3);   // would fit, but comes after 2
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 12}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{2, 10}, {3, 2}}));
}

TEST_F(FcfsPolicy, NoSkippingWhenMemoryIsShort) {
  ASSERT_NO_FATAL_FAILURE(make({}, 6));  // 24 tokens
  add(1, 0, 12, 9);                      // 3 blocks, grows to 5
  add(2, 0, 16, 2);                      // 4 blocks: waits for memory
  add(3, 0, 4, 2);                       // 1 block: would fit, but must wait behind 2
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 12}}));
  for (int i = 0; i < 8 && e_->request(1).outcome == SimOutcome::kLive; ++i) {
    ASSERT_TRUE(e_->step());
    for (const auto& [id, n] : items()) EXPECT_NE(id, 3u) << "request 3 skipped ahead of 2";
  }
  e_->run(100);
  EXPECT_EQ(e_->request(2).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->request(3).outcome, SimOutcome::kFinished);
}

TEST_F(FcfsPolicy, PreemptsTheLatestArrivalByRecompute) {
  ASSERT_NO_FATAL_FAILURE(make({}, 8));  // 32 tokens
  add(1, 0, 8, 12);
  add(2, 0, 8, 12);
  add(3, 0, 8, 12);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items().size(), 3u);
  ASSERT_TRUE(e_->step());  // position 8 needs a third block each: 9 > 8
  ASSERT_EQ(e_->last().preempted.size(), 1u);
  EXPECT_EQ(e_->last().preempted[0].request_id, 3u);
  EXPECT_EQ(e_->last().preempted[0].mode, BRICKS_PREEMPT_RECOMPUTE);
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}}));
  EXPECT_EQ(e_->request(3).state, BRICKS_REQ_WAITING);
  e_->run(200);
  ASSERT_FALSE(HasFailure());
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(e_->request(id).outcome, SimOutcome::kFinished);
  EXPECT_GE(e_->request(3).num_preemptions, 1);
  EXPECT_EQ(e_->request(1).num_preemptions, 0) << "the oldest request is never the victim";
}

TEST_F(FcfsPolicy, SwapModeSwapsOutAndBackBeforeNewAdmissions) {
  ASSERT_NO_FATAL_FAILURE(make({string_param("preemption", "swap")}, 8, 16));
  add(1, 0, 8, 6);
  add(2, 0, 8, 6);
  add(3, 0, 8, 6);
  add(4, 2, 4, 2);  // arrives while 3 is swapped out
  ASSERT_TRUE(e_->step());
  ASSERT_TRUE(e_->step());
  ASSERT_EQ(e_->last().preempted.size(), 1u);
  EXPECT_EQ(e_->last().preempted[0].request_id, 3u);
  EXPECT_EQ(e_->last().preempted[0].mode, BRICKS_PREEMPT_SWAP);
  EXPECT_EQ(e_->request(3).state, BRICKS_REQ_SWAPPED);
  bool swapped_back = false;
  while (!e_->all_ended() && e_->steps() < 100) {
    ASSERT_TRUE(e_->step());
    for (uint64_t id : e_->last().swapped_in) swapped_back = swapped_back || id == 3;
    for (const auto& [id, n] : items()) {
      if (id == 4) {
        EXPECT_TRUE(swapped_back) << "request 4 admitted while 3 was swapped out";
      }
    }
  }
  EXPECT_TRUE(swapped_back);
  for (uint64_t id = 1; id <= 4; ++id) EXPECT_EQ(e_->request(id).outcome, SimOutcome::kFinished);
  EXPECT_GT(e_->counters().copies, 0);
  EXPECT_EQ(e_->request(3).num_preemptions, 1);
}

TEST_F(FcfsPolicy, TooLongPromptFailsAloneWhileOthersFinish) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_batched_tokens", 16)}, 64));
  add(1, 0, 8, 3);
  add(2, 0, 20, 3);  // longer than the budget, chunking off
  add(3, 0, 8, 3);
  e_->run(100);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(e_->request(1).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->request(3).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->request(2).outcome, SimOutcome::kFailed);
  EXPECT_NE(e_->request(2).reason.find("max_num_batched_tokens"), std::string::npos)
      << e_->request(2).reason;
}

TEST_F(FcfsPolicy, SequenceOutgrowingThePoolFailsWithAReason) {
  ASSERT_NO_FATAL_FAILURE(make({}, 4));  // 16 tokens
  add(1, 0, 10, 20);
  add(2, 3, 4, 2);
  e_->run(100);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(e_->request(1).outcome, SimOutcome::kFailed);
  EXPECT_NE(e_->request(1).reason.find("whole pool"), std::string::npos) << e_->request(1).reason;
  EXPECT_EQ(e_->request(2).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->kv_stats().free_device_blocks, 4);
}

TEST_F(FcfsPolicy, RecomputeLongerThanTheBudgetRunsInChunks) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_batched_tokens", 16)}, 8));
  add(1, 0, 12, 12);
  add(2, 0, 12, 12);  // preempted once it holds more than the budget
  e_->run(300);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(e_->request(1).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->request(2).outcome, SimOutcome::kFinished) << e_->request(2).reason;
  EXPECT_GE(e_->request(2).num_preemptions, 1);
}

TEST_F(FcfsPolicy, AdmissionUsesThePrefixCache) {
  ASSERT_NO_FATAL_FAILURE(make({}, 64));
  add(1, 0, 16, 2, 500);
  add(2, 5, 16, 2, 500);  // same prompt, after 1 finished
  e_->run(100);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(e_->counters().cached_tokens, 12) << "3 full blocks; the last token is recomputed";
  EXPECT_EQ(e_->request(2).outcome, SimOutcome::kFinished);
}

TEST_F(FcfsPolicy, MaxNumSeqsLimitsTheRunningSet) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_seqs", 2)}, 64));
  for (uint64_t id = 1; id <= 4; ++id) add(id, 0, 4, 3);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 4}, {2, 4}}));
  e_->run(100);
  for (uint64_t id = 1; id <= 4; ++id) EXPECT_EQ(e_->request(id).outcome, SimOutcome::kFinished);
}

}  // namespace
}  // namespace bricks::testing
