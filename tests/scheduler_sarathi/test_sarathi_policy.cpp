// scheduler/sarathi: stall-free batching and chunked prefills, step by step, on the simulated
// engine with kv/paged.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "sim_engine.h"

namespace bricks::testing {
namespace {

using Items = std::vector<std::pair<uint64_t, int32_t>>;

class SarathiPolicy : public ::testing::Test {
 protected:
  // sarathi with `params` wired to kv/paged (block_size 4) over `blocks` device blocks.
  void make(std::vector<ParamSetting> params, int32_t blocks, int32_t host_blocks = 0) {
    int32_t seqs = 128;
    budget_ = 512;
    for (const auto& p : params) {
      if (p.name == "max_num_seqs") seqs = static_cast<int32_t>(p.value.i);
      if (p.name == "token_budget") budget_ = static_cast<int32_t>(p.value.i);
    }
    kv_ = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 4)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "sarathi", params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{blocks, host_blocks},
                                     SimLimits{seqs, budget_});
  }
  void add(uint64_t id, int64_t arrival, int32_t prompt, int32_t max_new) {
    std::vector<int32_t> tokens(static_cast<size_t>(prompt));
    for (int32_t i = 0; i < prompt; ++i)
      tokens[static_cast<size_t>(i)] = static_cast<int32_t>(id) * 1000 + i;
    e_->add({id, arrival, std::move(tokens), max_new});
  }
  Items items() const {
    Items out;
    for (const auto& it : e_->last().items) out.emplace_back(it.request_id, it.num_tokens);
    return out;
  }
  int32_t tokens_of(uint64_t id) const {
    for (const auto& it : e_->last().items)
      if (it.request_id == id) return it.num_tokens;
    return 0;
  }
  // Live running requests with one token left: the decodes of the next step.
  std::set<uint64_t> decodes() const {
    std::set<uint64_t> out;
    for (const SimRequest& r : e_->requests()) {
      if (r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING &&
          r.num_computed + 1 == static_cast<int32_t>(r.tokens.size())) {
        out.insert(r.spec.id);
      }
    }
    return out;
  }

  int32_t budget_ = 0;
  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
};

TEST_F(SarathiPolicy, DecodesNeverWaitForAPrefill) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("token_budget", 16), int_param("min_chunk", 4)}, 256));
  for (uint64_t id = 1; id <= 4; ++id) add(id, 0, 3, 30);
  add(5, 2, 120, 4);  // a long prompt arrives while the others decode
  add(6, 3, 60, 4);
  int64_t steps_with_decodes_and_prefill = 0;
  while (!e_->all_ended() && e_->steps() < 500) {
    const std::set<uint64_t> want = decodes();
    ASSERT_TRUE(e_->step());
    std::set<uint64_t> got;
    int32_t prefill_tokens = 0;
    for (const auto& it : e_->last().items) {
      if (want.count(it.request_id) != 0) {
        EXPECT_EQ(it.num_tokens, 1) << "a decode computes one token";
        got.insert(it.request_id);
      } else {
        prefill_tokens += it.num_tokens;
      }
    }
    EXPECT_EQ(got, want) << "step " << e_->steps() - 1 << " left a running decode out";
    if (!want.empty() && prefill_tokens > 0) ++steps_with_decodes_and_prefill;
    EXPECT_TRUE(e_->last().preempted.empty()) << "the pool is large: nothing to preempt";
  }
  EXPECT_TRUE(e_->all_ended());
  EXPECT_GT(steps_with_decodes_and_prefill, 5) << "prefill chunks ride along with decodes";
}

TEST_F(SarathiPolicy, LongPromptIsSplitIntoChunksWithinTheBudget) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("token_budget", 32)}, 256));
  add(1, 0, 100, 2);
  std::vector<int32_t> chunks;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(e_->step());
    chunks.push_back(tokens_of(1));
  }
  EXPECT_EQ(chunks, (std::vector<int32_t>{32, 32, 32, 4}));
}

TEST_F(SarathiPolicy, NewPromptsFillOnlyTheBudgetLeftAfterDecodes) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("token_budget", 20), int_param("min_chunk", 4)}, 256));
  add(1, 0, 4, 10);
  add(2, 0, 4, 10);
  add(3, 1, 50, 2);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 4}, {2, 4}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 18}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 18}}));
}

TEST_F(SarathiPolicy, ChunksBelowMinChunkWaitUnlessTheyEndThePrompt) {
  for (const int64_t min_chunk : {8, 4}) {
    SCOPED_TRACE("min_chunk " + std::to_string(min_chunk));
    ASSERT_NO_FATAL_FAILURE(
        make({int_param("token_budget", 12), int_param("min_chunk", min_chunk)}, 256));
    for (uint64_t id = 1; id <= 6; ++id) add(id, 0, 2, 40);
    add(7, 1, 20, 2);  // 6 tokens left after the decodes
    ASSERT_TRUE(e_->step());
    ASSERT_EQ(e_->last().items.size(), 6u);
    ASSERT_TRUE(e_->step());
    EXPECT_EQ(tokens_of(7), min_chunk == 8 ? 0 : 6);
    EXPECT_EQ(e_->last().items.size(), min_chunk == 8 ? 6u : 7u);
  }
  // A prompt that ends within the room left runs even below min_chunk.
  ASSERT_NO_FATAL_FAILURE(make({int_param("token_budget", 12), int_param("min_chunk", 8)}, 256));
  for (uint64_t id = 1; id <= 6; ++id) add(id, 0, 2, 40);
  add(7, 1, 5, 2);
  ASSERT_TRUE(e_->step());
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(7), 5);
}

TEST_F(SarathiPolicy, RandomWorkloadsEndInEveryMode) {
  struct Mode {
    std::vector<ParamSetting> params;
    int32_t host_blocks;
  };
  const Mode modes[] = {
      {{int_param("token_budget", 24), int_param("max_num_seqs", 5),
        string_param("preemption", "swap")},
       32},
      {{int_param("token_budget", 64), int_param("max_num_seqs", 16), int_param("min_chunk", 1)},
       0},
      {{int_param("token_budget", 8), int_param("max_num_seqs", 4), int_param("min_chunk", 32)}, 0},
  };
  for (const Mode& m : modes) {
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed));
      ASSERT_NO_FATAL_FAILURE(make(m.params, 40, m.host_blocks));
      WorkloadShape w;
      w.num_requests = 24;
      w.max_prompt = 50;
      w.max_new = 30;
      for (SimRequestSpec& s : random_workload(seed, w)) e_->add(std::move(s));
      e_->run(20000);
      ASSERT_FALSE(::testing::Test::HasFailure());
      ASSERT_TRUE(e_->all_ended());
      for (const SimRequest& r : e_->requests()) {
        if (r.outcome == SimOutcome::kFinished) {
          EXPECT_EQ(r.num_generated, r.spec.max_new_tokens);
        }
      }
      const bricks_kv_stats s = e_->kv_stats();
      EXPECT_EQ(s.free_device_blocks, s.num_device_blocks);
    }
  }
}

}  // namespace
}  // namespace bricks::testing
