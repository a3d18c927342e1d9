// scheduler/sarathi: the step budget under a time-between-tokens SLO, driven directly with
// synthetic step times (the simulated engine reports a constant time).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

// One long prompt computed chunk by chunk; each step reports
// fixed_s + per_token_s * (tokens of the step) to on_step_done.
class SloDriver {
 public:
  explicit SloDriver(std::vector<ParamSetting> params, int32_t prompt = 4000) {
    kv_ = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 16)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "sarathi", std::move(params));
    if (kv_ == nullptr || sched_ == nullptr) return;
    sched_->wire(*kv_);
    bricks_kv_geometry g{sizeof(bricks_kv_geometry), 512, 0, 0, 1, 1};
    ok_ = take_error(kv_->vt<bricks_kv_vtable>()->configure(kv_->instance(), &g)).empty();
    tokens_.resize(static_cast<size_t>(prompt));
    for (int32_t i = 0; i < prompt; ++i) tokens_[static_cast<size_t>(i)] = i;
    view_.id = 1;
    view_.state = BRICKS_REQ_WAITING;
    view_.prompt_len = prompt;
    view_.num_tokens = prompt;
    view_.max_new_tokens = 1;
    view_.tokens = tokens_.data();
  }
  bool ok() const { return ok_; }

  // Runs one step; returns the tokens the plan gave the prompt (0 if none, -1 on an error).
  int32_t step(double fixed_s, double per_token_s) {
    const auto* vt = sched_->vt<bricks_scheduler_vtable>();
    bricks_sched_input in{sizeof(bricks_sched_input), &view_, 1, 0.0, step_++};
    bricks_step_plan plan{};
    if (!take_error(vt->schedule(sched_->instance(), &in, &plan)).empty()) return -1;
    int32_t tokens = 0;
    for (int32_t i = 0; i < plan.num_items; ++i) tokens += plan.items[i].num_tokens;
    view_.state = BRICKS_REQ_RUNNING;
    view_.num_computed += tokens;
    bricks_step_result res{sizeof(bricks_step_result), nullptr, 0, fixed_s + per_token_s * tokens};
    vt->on_step_done(sched_->instance(), &res);
    return tokens;
  }

 private:
  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::vector<int32_t> tokens_;
  bricks_request_view view_{};
  int64_t step_ = 0;
  bool ok_ = false;
};

TEST(SarathiSlo, SlowStepsLowerTheBudgetToTheSlo) {
  // 10 ms fixed + 1 ms per token under a 50 ms SLO: at most 40 tokens per step.
  SloDriver d(
      {int_param("token_budget", 256), float_param("tbt_slo_ms", 50.0), int_param("min_chunk", 1)});
  ASSERT_TRUE(d.ok());
  std::vector<int32_t> chunks;
  for (int i = 0; i < 8; ++i) chunks.push_back(d.step(0.010, 0.001));
  EXPECT_EQ(chunks.front(), 256) << "no cost known before the first step";
  EXPECT_LT(chunks[1], 256);
  EXPECT_EQ(chunks.back(), 40);
  for (int32_t c : chunks) EXPECT_GE(c, 1);
}

TEST(SarathiSlo, FastStepsKeepTheConfiguredBudget) {
  SloDriver d({int_param("token_budget", 128), float_param("tbt_slo_ms", 50.0)});
  ASSERT_TRUE(d.ok());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(d.step(0.001, 0.00001), 128) << "step " << i;
}

TEST(SarathiSlo, WithoutAnSloStepTimesChangeNothing) {
  SloDriver d({int_param("token_budget", 128)});
  ASSERT_TRUE(d.ok());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(d.step(0.5, 0.01), 128) << "step " << i;
}

TEST(SarathiSlo, AnSloBelowTheFixedCostStillMakesProgress) {
  SloDriver d(
      {int_param("token_budget", 64), float_param("tbt_slo_ms", 5.0), int_param("min_chunk", 1)});
  ASSERT_TRUE(d.ok());
  d.step(0.010, 0.001);
  d.step(0.010, 0.001);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.step(0.010, 0.001), 1) << "step " << i;
}

}  // namespace
}  // namespace bricks::testing
