// scheduler/fastswitch: priority preemption, the displacement margin, tenant fairness, the
// thrashing guard and termination under pressure, on the simulated engine.
#include <map>

#include "fastswitch_fixture.h"

namespace bricks::testing {
namespace {

using FastSwitchPolicy = FastSwitchTest;

TEST_F(FastSwitchPolicy, HigherPriorityTakesASeatFromALowerOne) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_seqs", 3), string_param("preempt_mode", "swap")},
                               "block_group", {int_param("block_size", 4)}, 64, 32));
  for (uint64_t id = 1; id <= 3; ++id) add(id, 0, 8, 30);
  add(4, 6, 8, 4, /*priority=*/5);
  ASSERT_TRUE(steps(6));
  EXPECT_TRUE(e_->last().preempted.empty());
  ASSERT_TRUE(steps(1));  // step 6: the urgent request arrives
  bricks_preempt_mode mode{};
  EXPECT_TRUE(preempted_in_last(3, &mode)) << "the lowest-ranked (latest) request gives way";
  EXPECT_EQ(mode, BRICKS_PREEMPT_SWAP);
  EXPECT_EQ(tokens_in_last(4), 8) << "admitted in the step it arrived";
  e_->run(1000);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(e_->all_ended());
  EXPECT_LT(e_->request(4).end_step, e_->request(1).end_step);
  EXPECT_EQ(e_->request(3).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e_->counters().swap_ins, 1);
}

TEST_F(FastSwitchPolicy, HigherPriorityTakesBlocksFromALowerOne) {
  // 16 blocks of 4 tokens: two requests of 24 + 8 tokens fill the pool exactly.
  ASSERT_NO_FATAL_FAILURE(
      make({string_param("preempt_mode", "swap")}, "paged", {int_param("block_size", 4)}, 16, 32));
  add(1, 0, 24, 9);
  add(2, 0, 24, 9);
  add(3, 5, 12, 2, /*priority=*/3);
  ASSERT_TRUE(steps(6));
  EXPECT_TRUE(preempted_in_last(2)) << "the lower-ranked running request is swapped out";
  EXPECT_FALSE(preempted_in_last(1));
  EXPECT_EQ(tokens_in_last(3), 12);
  e_->run(1000);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(e_->all_ended());
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(e_->request(id).outcome, SimOutcome::kFinished);
}

TEST_F(FastSwitchPolicy, EqualPriorityWaitsInsteadOfDisplacing) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("max_num_seqs", 3), string_param("preempt_mode", "swap")},
                               "block_group", {int_param("block_size", 4)}, 64, 32));
  for (uint64_t id = 1; id <= 3; ++id) add(id, 0, 8, 20);
  add(4, 6, 8, 4);
  e_->run(1000);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(e_->all_ended());
  EXPECT_EQ(e_->counters().swap_preemptions + e_->counters().recompute_preemptions, 0);
  EXPECT_GT(e_->request(4).end_step, e_->request(1).end_step);
}

// Returns who an urgent arrival at step 8 displaces when request 2 entered at step 6.
uint64_t victim_with_min_run_steps(FastSwitchTest& t, int64_t min_run_steps) {
  t.make({int_param("max_num_seqs", 2), string_param("preempt_mode", "swap"),
          int_param("min_run_steps", min_run_steps)},
         "block_group", {int_param("block_size", 4)}, 64, 32);
  t.add(1, 0, 8, 30);
  t.add(2, 6, 8, 30);
  t.add(3, 8, 8, 4, /*priority=*/5);
  for (int i = 0; i <= 8; ++i) {
    if (!t.e_->step()) return 0;
  }
  const auto& preempted = t.e_->last().preempted;
  return preempted.size() == 1 ? preempted[0].request_id : 0;
}

TEST_F(FastSwitchPolicy, MinRunStepsProtectsARequestThatJustEntered) {
  EXPECT_EQ(victim_with_min_run_steps(*this, 0), 2u) << "unprotected: the lowest-ranked goes";
  EXPECT_EQ(victim_with_min_run_steps(*this, 5), 1u) << "request 2 entered 2 steps ago";
  EXPECT_EQ(victim_with_min_run_steps(*this, 20), 0u) << "both protected: the arrival waits";
}

// Tokens computed per tenant over the first `window` steps.
std::map<int32_t, int64_t> service_by_tenant(SimEngine& e, int32_t window) {
  std::map<int32_t, int64_t> out;
  for (int32_t s = 0; s < window && !e.all_ended(); ++s) {
    if (!e.step()) break;
    for (const auto& it : e.last().items)
      out[e.request(it.request_id).spec.tenant] += it.num_tokens;
  }
  return out;
}

class FastSwitchFairness : public FastSwitchTest {
 protected:
  // Tenant 0 floods 30 requests at step 0; tenant 1 sends 6 a step later. Returns tenant 1's
  // share of the tokens computed in the first 40 steps.
  double quiet_tenant_share(double fairness_weight) {
    make({int_param("max_num_seqs", 4), int_param("token_budget", 64),
          float_param("fairness_weight", fairness_weight), float_param("fairness_quantum", 32)},
         "block_group", {int_param("block_size", 4)}, 256, 64);
    if (HasFatalFailure()) return -1;
    for (uint64_t id = 1; id <= 30; ++id) add(id, 0, 16, 20, 0, 0);
    for (uint64_t id = 31; id <= 36; ++id) add(id, 1, 16, 20, 0, 1);
    const std::map<int32_t, int64_t> got = service_by_tenant(*e_, 40);
    EXPECT_FALSE(HasFailure());
    const double t0 = got.count(0) ? static_cast<double>(got.at(0)) : 0.0;
    const double t1 = got.count(1) ? static_cast<double>(got.at(1)) : 0.0;
    e_->run(5000);
    EXPECT_TRUE(e_->all_ended());
    return t1 / (t0 + t1);
  }
};

TEST_F(FastSwitchFairness, AFloodingTenantDoesNotStarveAQuietOne) {
  const double fair = quiet_tenant_share(1.0);
  const double unfair = quiet_tenant_share(0.0);
  EXPECT_GE(fair, 0.35) << "tenant 1 gets close to half of the service";
  EXPECT_LE(unfair, 0.1) << "without the fairness term tenant 1 queues behind the flood";
}

// Under heavy pressure with mixed priorities and tenants, every request ends, and no request
// is preempted within min_run_steps of entering the device.
void run_pressure(SimEngine& e, int32_t min_run_steps, uint32_t seed) {
  WorkloadShape shape;
  shape.num_requests = 40;
  shape.max_prompt = 48;
  shape.max_new = 40;
  shape.arrival_spread = 30;
  shape.oversized_every = 13;
  shape.oversized_len = 300;
  for (SimRequestSpec& s : random_workload(seed, shape)) {
    s.priority = static_cast<int32_t>(s.id % 3);
    s.tenant = static_cast<int32_t>(s.id % 2);
    e.add(std::move(s));
  }
  std::map<uint64_t, int64_t> entered;
  while (!e.all_ended() && e.steps() < 20000) {
    std::map<uint64_t, bricks_request_state> before;
    for (const SimRequest& r : e.requests()) before[r.spec.id] = r.state;
    const int64_t step = e.steps();
    if (!e.step()) break;
    for (const auto& p : e.last().preempted) {
      auto it = entered.find(p.request_id);
      if (it != entered.end()) {
        EXPECT_GE(step - it->second, min_run_steps)
            << "request " << p.request_id << " preempted again too soon";
      }
    }
    for (uint64_t id : e.last().swapped_in) entered[id] = step;
    for (const auto& it : e.last().items) {
      if (before[it.request_id] == BRICKS_REQ_WAITING) entered[it.request_id] = step;
    }
  }
  EXPECT_TRUE(e.all_ended()) << "requests still live after 20000 steps";
  int64_t finished_after_preemption = 0;
  for (const SimRequest& r : e.requests()) {
    if (r.outcome == SimOutcome::kFinished) {
      EXPECT_EQ(r.num_generated, r.spec.max_new_tokens);
      finished_after_preemption += r.num_preemptions > 0 ? 1 : 0;
    } else {
      EXPECT_EQ(r.spec.prompt.size(), 300u) << "only oversized prompts fail: " << r.reason;
    }
  }
  EXPECT_GT(finished_after_preemption, 0) << "the workload never preempted: it tests nothing";
  const bricks_kv_stats s = e.kv_stats();
  EXPECT_EQ(s.free_device_blocks, s.num_device_blocks);
  EXPECT_EQ(s.free_host_blocks, s.num_host_blocks);
}

struct PressureCase {
  const char* label;
  const char* kv;
  const char* mode;
  int32_t host_blocks;
};

class FastSwitchPressure : public FastSwitchTest,
                           public ::testing::WithParamInterface<PressureCase> {};

TEST_P(FastSwitchPressure, EveryRequestEndsAndNoneThrashes) {
  const PressureCase& c = GetParam();
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_NO_FATAL_FAILURE(
        make({int_param("max_num_seqs", 8), int_param("token_budget", 48),
              string_param("preempt_mode", c.mode), int_param("min_run_steps", 3),
              int_param("priority_update_steps", 1), float_param("fairness_quantum", 16)},
             c.kv, {int_param("block_size", 4)}, 64, c.host_blocks));
    run_pressure(*e_, 3, seed);
    ASSERT_FALSE(HasFailure());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, FastSwitchPressure,
    ::testing::Values(PressureCase{"paged_recompute", "paged", "recompute", 0},
                      PressureCase{"paged_swap", "paged", "swap", 24},
                      PressureCase{"block_group_auto", "block_group", "auto", 24},
                      PressureCase{"block_group_swap_small_host", "block_group", "swap", 6}),
    [](const ::testing::TestParamInfo<PressureCase>& info) {
      return std::string(info.param.label);
    });

}  // namespace
}  // namespace bricks::testing
