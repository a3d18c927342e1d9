// scheduler/sarathi: parameters, wiring and errors.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

std::string schedule_error(HarnessBrick& sched) {
  bricks_request_view v{};
  v.id = 1;
  v.num_tokens = 4;
  v.prompt_len = 4;
  v.max_new_tokens = 1;
  const int32_t tokens[4] = {1, 2, 3, 4};
  v.tokens = tokens;
  bricks_sched_input in{sizeof(bricks_sched_input), &v, 1, 0.0, 0};
  bricks_step_plan plan{};
  return take_error(sched.vt<bricks_scheduler_vtable>()->schedule(sched.instance(), &in, &plan));
}

TEST(SarathiSetup, DeclaresItsParameters) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "sarathi");
  ASSERT_NE(s, nullptr);
  const bricks_brick_desc& d = s->desc();
  ASSERT_EQ(d.num_params, 5);
  EXPECT_STREQ(d.params[0].name, "token_budget");
  EXPECT_EQ(d.params[0].default_value.i, 512);
  EXPECT_EQ(d.params[0].max_int, 1 << 20);
  EXPECT_STREQ(d.params[1].name, "max_num_seqs");
  EXPECT_EQ(d.params[1].default_value.i, 128);
  EXPECT_STREQ(d.params[2].name, "preemption");
  EXPECT_STREQ(d.params[2].default_value.s, "recompute");
  EXPECT_STREQ(d.params[3].name, "tbt_slo_ms");
  EXPECT_EQ(d.params[3].default_value.f, 0.0);
  EXPECT_STREQ(d.params[4].name, "min_chunk");
  EXPECT_EQ(d.params[4].default_value.i, 32);
}

TEST(SarathiSetup, UnknownPreemptionModeFailsCreate) {
  EXPECT_NONFATAL_FAILURE(
      create_brick(BRICKS_KIND_SCHEDULER, "sarathi", {string_param("preemption", "drop")}),
      "not one of recompute, swap");
}

TEST(SarathiSetup, ScheduleWithoutKvIsAClearError) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "sarathi");
  ASSERT_NE(s, nullptr);
  const std::string err = schedule_error(*s);
  EXPECT_NE(err.find("scheduler sarathi: no kv brick is wired"), std::string::npos) << err;
}

TEST(SarathiSetup, UnconfiguredKvIsAClearError) {
  auto kv = create_brick(BRICKS_KIND_KV, "paged");
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "sarathi");
  ASSERT_NE(kv, nullptr);
  ASSERT_NE(s, nullptr);
  s->wire(*kv);
  const std::string err = schedule_error(*s);
  EXPECT_NE(err.find("configure"), std::string::npos) << err;
}

}  // namespace
}  // namespace bricks::testing
