// scheduler/splitfuse: fixed-size forward passes, split and fused prompts, on the simulated
// engine with kv/paged; plus its parameters and errors.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>

#include "sim_engine.h"

namespace bricks::testing {
namespace {

using Items = std::vector<std::pair<uint64_t, int32_t>>;

class SplitFusePolicy : public ::testing::Test {
 protected:
  // splitfuse with forward_size `size` (and `params`) wired to kv/paged (block_size 4).
  void make(int32_t size, int32_t blocks, std::vector<ParamSetting> params = {},
            int32_t host_blocks = 0) {
    params.push_back(int_param("forward_size", size));
    int32_t seqs = 256;
    for (const auto& p : params)
      if (p.name == "max_num_seqs") seqs = static_cast<int32_t>(p.value.i);
    kv_ = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 4)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "splitfuse", params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{blocks, host_blocks},
                                     SimLimits{seqs, size});
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
  int32_t total() const {
    int32_t n = 0;
    for (const auto& it : e_->last().items) n += it.num_tokens;
    return n;
  }
  // Prompt tokens not yet computed over live requests (work that could fill a pass).
  int64_t prompt_work_left() const {
    int64_t n = 0;
    for (const SimRequest& r : e_->requests()) {
      if (r.outcome != SimOutcome::kLive || r.spec.arrival_step > e_->steps()) continue;
      n += std::max<int64_t>(0, static_cast<int64_t>(r.spec.prompt.size()) - r.num_computed);
    }
    return n;
  }

  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
};

TEST_F(SplitFusePolicy, FusesShortPromptsWholeAndSplitsTheNext) {
  ASSERT_NO_FATAL_FAILURE(make(32, 256));
  for (uint64_t id = 1; id <= 4; ++id) add(id, 0, 10, 4);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 10}, {2, 10}, {3, 10}, {4, 2}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 1}, {3, 1}, {4, 8}}));
}

TEST_F(SplitFusePolicy, SplitsALongPromptAcrossPassesAtAnyToken) {
  ASSERT_NO_FATAL_FAILURE(make(32, 256));
  add(1, 0, 3, 20);
  add(2, 1, 100, 2);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 3}}));
  // One decode, then the prompt takes the 31 tokens left, however few.
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 31}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 31}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 31}}));
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(items(), (Items{{1, 1}, {2, 7}}));
}

TEST_F(SplitFusePolicy, FillsEveryPassToForwardSizeWhileWorkExists) {
  ASSERT_NO_FATAL_FAILURE(make(48, 1024));
  for (uint64_t id = 1; id <= 30; ++id) add(id, static_cast<int64_t>(id / 3), 5 + 7 * (id % 5), 6);
  int64_t full = 0;
  while (!e_->all_ended() && e_->steps() < 2000) {
    const int64_t decodes_and_prompts = [&] {
      int64_t n = prompt_work_left();
      for (const SimRequest& r : e_->requests()) {
        n += (r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING &&
              r.num_computed + 1 == static_cast<int32_t>(r.tokens.size()))
                 ? 1
                 : 0;
      }
      return n;
    }();
    ASSERT_TRUE(e_->step());
    EXPECT_LE(total(), 48);
    if (decodes_and_prompts >= 48) {
      EXPECT_EQ(total(), 48) << "step " << e_->steps() - 1 << " left room with work waiting";
      ++full;
    }
  }
  EXPECT_TRUE(e_->all_ended());
  EXPECT_GT(full, 5);
}

TEST_F(SplitFusePolicy, RandomWorkloadsEndUnderPressure) {
  for (const bool swap : {false, true}) {
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      SCOPED_TRACE(std::string(swap ? "swap" : "recompute") + " seed " + std::to_string(seed));
      ASSERT_NO_FATAL_FAILURE(make(
          20, 40,
          {int_param("max_num_seqs", 6), string_param("preemption", swap ? "swap" : "recompute")},
          swap ? 32 : 0));
      WorkloadShape w;
      w.num_requests = 24;
      w.max_prompt = 50;
      w.max_new = 30;
      for (SimRequestSpec& s : random_workload(seed, w)) e_->add(std::move(s));
      e_->run(20000);
      ASSERT_FALSE(::testing::Test::HasFailure());
      ASSERT_TRUE(e_->all_ended());
      const bricks_kv_stats s = e_->kv_stats();
      EXPECT_EQ(s.free_device_blocks, s.num_device_blocks);
      EXPECT_EQ(s.free_host_blocks, s.num_host_blocks);
    }
  }
}

TEST(SplitFuseSetup, DeclaresItsParametersAndRejectsBadOnes) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "splitfuse");
  ASSERT_NE(s, nullptr);
  const bricks_brick_desc& d = s->desc();
  ASSERT_EQ(d.num_params, 3);
  EXPECT_STREQ(d.params[0].name, "forward_size");
  EXPECT_EQ(d.params[0].default_value.i, 768);
  EXPECT_STREQ(d.params[1].name, "max_num_seqs");
  EXPECT_EQ(d.params[1].default_value.i, 256);
  EXPECT_STREQ(d.params[2].name, "preemption");
  EXPECT_NONFATAL_FAILURE(
      create_brick(BRICKS_KIND_SCHEDULER, "splitfuse", {string_param("preemption", "drop")}),
      "not one of recompute, swap");
}

TEST(SplitFuseSetup, ScheduleWithoutKvIsAClearError) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "splitfuse");
  ASSERT_NE(s, nullptr);
  bricks_request_view v{};
  v.id = 1;
  v.num_tokens = 2;
  v.prompt_len = 2;
  v.max_new_tokens = 1;
  const int32_t tokens[2] = {1, 2};
  v.tokens = tokens;
  bricks_sched_input in{sizeof(bricks_sched_input), &v, 1, 0.0, 0};
  bricks_step_plan plan{};
  const std::string err =
      take_error(s->vt<bricks_scheduler_vtable>()->schedule(s->instance(), &in, &plan));
  EXPECT_NE(err.find("scheduler splitfuse: no kv brick is wired"), std::string::npos) << err;
}

}  // namespace
}  // namespace bricks::testing
