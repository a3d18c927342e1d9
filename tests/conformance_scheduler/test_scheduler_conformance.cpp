// scheduler conformance: every case in scheduler_cases(), a scheduler wired to a kv brick,
// driven by the simulated engine through random seeded workloads under heavy memory pressure.
#include <gtest/gtest.h>

#include <memory>

#include "scheduler_conformance.h"

namespace bricks::testing {
namespace {

constexpr int32_t kPoolTokens = 192;  // tiny: a few requests fill it
constexpr int64_t kStepBound = 20000;

class SchedulerConformance : public ::testing::TestWithParam<SchedulerCase> {
 protected:
  // Builds scheduler + kv and an engine over a pool of kPoolTokens.
  std::unique_ptr<SimEngine> engine() {
    const SchedulerCase& c = GetParam();
    kv_ = create_brick(BRICKS_KIND_KV, c.kv, c.kv_params);
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, c.scheduler, c.scheduler_params);
    if (kv_ == nullptr || sched_ == nullptr) return nullptr;
    sched_->wire(*kv_);
    const int32_t bs = kv_->vt<bricks_kv_vtable>()->block_size(kv_->instance());
    return std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{kPoolTokens / bs, c.host_blocks},
                                       c.limits);
  }
  static WorkloadShape pressure_shape() {
    WorkloadShape w;
    w.num_requests = 36;
    w.max_prompt = 60;  // capped to the token budget where whole prompts are needed
    w.max_new = 40;
    w.num_prefix_groups = 3;
    w.shared_prefix_len = 24;
    w.arrival_spread = 40;
    w.oversized_every = 9;
    w.oversized_len = kPoolTokens + 8;  // can never fit the pool
    return w;
  }

  std::unique_ptr<HarnessBrick> kv_, sched_;
};

TEST_P(SchedulerConformance, EveryRequestEndsUnderMemoryPressure) {
  int64_t preempted_and_finished = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::unique_ptr<SimEngine> e = engine();
    ASSERT_NE(e, nullptr);
    WorkloadShape shape = pressure_shape();
    // Whole prompts must fit the budget when the scheduler does not chunk them.
    shape.max_prompt = std::min(shape.max_prompt, GetParam().limits.max_num_batched_tokens);
    for (SimRequestSpec& s : random_workload(seed, shape)) e->add(std::move(s));
    e->run(kStepBound);
    ASSERT_FALSE(::testing::Test::HasFailure());
    ASSERT_TRUE(e->all_ended()) << "requests still live after " << kStepBound << " steps";
    const int32_t bs = e->block_size();
    for (const SimRequest& r : e->requests()) {
      const int32_t peak = static_cast<int32_t>(r.spec.prompt.size()) + r.spec.max_new_tokens - 1;
      if (r.outcome == SimOutcome::kFailed) {
        EXPECT_FALSE(r.reason.empty());
        EXPECT_GT((peak + bs - 1) / bs, kPoolTokens / bs)
            << "request " << r.spec.id << " fits the pool but failed: " << r.reason;
      } else {
        EXPECT_EQ(r.num_generated, r.spec.max_new_tokens);
        preempted_and_finished += r.num_preemptions > 0 ? 1 : 0;
      }
    }
    const bricks_kv_stats s = e->kv_stats();
    EXPECT_EQ(s.free_device_blocks, s.num_device_blocks) << "KV left behind";
    EXPECT_EQ(s.free_host_blocks, s.num_host_blocks) << "host tier left behind";
  }
  if (GetParam().must_preempt) {
    EXPECT_GT(preempted_and_finished, 0) << "the workload never preempted: it tests nothing";
  }
}

TEST_P(SchedulerConformance, OversizedPromptsFailAloneWithAReason) {
  std::unique_ptr<SimEngine> e = engine();
  ASSERT_NE(e, nullptr);
  const int32_t bs = e->block_size();
  e->add({1, 0, std::vector<int32_t>(8, 11), 4});
  e->add({2, 0, std::vector<int32_t>(kPoolTokens + bs, 12), 4});  // never fits
  e->add({3, 0, std::vector<int32_t>(8, 13), 4});
  e->run(1000);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(e->request(1).outcome, SimOutcome::kFinished);
  EXPECT_EQ(e->request(2).outcome, SimOutcome::kFailed);
  EXPECT_FALSE(e->request(2).reason.empty());
  EXPECT_EQ(e->request(3).outcome, SimOutcome::kFinished);
}

TEST_P(SchedulerConformance, DeterministicGivenASeed) {
  std::vector<std::string> first;
  for (int run = 0; run < 2; ++run) {
    std::unique_ptr<SimEngine> e = engine();
    ASSERT_NE(e, nullptr);
    for (SimRequestSpec& s : random_workload(42, pressure_shape())) {
      s.prompt.resize(std::min<size_t>(s.prompt.size(), 32), 9);
      e->add(std::move(s));
    }
    e->run(kStepBound);
    ASSERT_FALSE(::testing::Test::HasFailure());
    if (run == 0) {
      first = e->trace();
    } else {
      EXPECT_EQ(e->trace(), first);
    }
  }
  EXPECT_GT(first.size(), 10u);
}

TEST_P(SchedulerConformance, ARequestFillingThePoolAloneFinishes) {
  std::unique_ptr<SimEngine> e = engine();
  ASSERT_NE(e, nullptr);
  // prompt + outputs - 1 == the whole pool
  e->add({1, 0, std::vector<int32_t>(32, 5), kPoolTokens - 31});
  e->add({2, 1, std::vector<int32_t>(16, 6), 8});
  e->run(kStepBound);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(e->request(1).outcome, SimOutcome::kFinished) << e->request(1).reason;
  EXPECT_EQ(e->request(2).outcome, SimOutcome::kFinished) << e->request(2).reason;
}

INSTANTIATE_TEST_SUITE_P(Schedulers, SchedulerConformance, ::testing::ValuesIn(scheduler_cases()),
                         [](const ::testing::TestParamInfo<SchedulerCase>& info) {
                           return info.param.label;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SchedulerConformance);

}  // namespace
}  // namespace bricks::testing
