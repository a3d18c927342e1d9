// scheduler/fcfs: parameters, wiring and errors.
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

TEST(FcfsSetup, DeclaresItsParameters) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "fcfs");
  ASSERT_NE(s, nullptr);
  const bricks_brick_desc& d = s->desc();
  ASSERT_EQ(d.num_params, 4);
  EXPECT_STREQ(d.params[0].name, "max_num_seqs");
  EXPECT_EQ(d.params[0].default_value.i, 256);
  EXPECT_STREQ(d.params[1].name, "max_num_batched_tokens");
  EXPECT_EQ(d.params[1].default_value.i, 2048);
  EXPECT_EQ(d.params[1].max_int, 1 << 20);
  EXPECT_STREQ(d.params[2].name, "preemption");
  EXPECT_STREQ(d.params[2].default_value.s, "recompute");
  EXPECT_EQ(d.params[2].num_choices, 2);
  EXPECT_STREQ(d.params[3].name, "enable_chunked_prefill");
  EXPECT_EQ(d.params[3].default_value.i, 0);
  EXPECT_EQ(d.num_requires, 0);
}

TEST(FcfsSetup, UnknownPreemptionModeFailsCreate) {
  EXPECT_NONFATAL_FAILURE(
      create_brick(BRICKS_KIND_SCHEDULER, "fcfs", {string_param("preemption", "drop")}),
      "not one of recompute, swap");
}

TEST(FcfsSetup, ScheduleWithoutKvIsAClearError) {
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "fcfs");
  ASSERT_NE(s, nullptr);
  const std::string err = schedule_error(*s);
  EXPECT_NE(err.find("no kv brick is wired"), std::string::npos) << err;
}

TEST(FcfsSetup, UnconfiguredKvIsAClearError) {
  auto kv = create_brick(BRICKS_KIND_KV, "paged");
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "fcfs");
  ASSERT_NE(kv, nullptr);
  ASSERT_NE(s, nullptr);
  s->wire(*kv);
  const std::string err = schedule_error(*s);
  EXPECT_NE(err.find("configure"), std::string::npos) << err;
}

TEST(FcfsSetup, KvErrorsReachTheHostUnchanged) {
  auto kv = create_brick(BRICKS_KIND_KV, "paged");
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "fcfs");
  ASSERT_NE(kv, nullptr);
  ASSERT_NE(s, nullptr);
  s->wire(*kv);
  bricks_kv_geometry g{sizeof(bricks_kv_geometry), 16, 0, 0, 1, 1};
  ASSERT_EQ(take_error(kv->vt<bricks_kv_vtable>()->configure(kv->instance(), &g)), "");
  // A swapped view of a request the kv brick never saw: swap_in is misuse, and the kv brick's
  // own message comes back.
  bricks_request_view v{};
  v.id = 9;
  v.state = BRICKS_REQ_SWAPPED;
  v.num_tokens = 4;
  v.num_computed = 3;
  v.prompt_len = 3;
  bricks_sched_input in{sizeof(bricks_sched_input), &v, 1, 0.0, 0};
  bricks_step_plan plan{};
  const std::string err =
      take_error(s->vt<bricks_scheduler_vtable>()->schedule(s->instance(), &in, &plan));
  EXPECT_NE(err.find("kv/paged: request 9"), std::string::npos) << err;
}

}  // namespace
}  // namespace bricks::testing
