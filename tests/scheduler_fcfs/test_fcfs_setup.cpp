// scheduler/fcfs: parameters, wiring and errors.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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
  EXPECT_EQ(d.params[1].default_value.i, 0);  // auto: sized to the model's context
  EXPECT_EQ(d.params[1].min_int, 0);
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

// One step over one waiting request with a prompt of `prompt_len` tokens, the host saying
// the model's context is `max_model_len` (0: a host that does not say). Returns the plan's
// item tokens, or -1 when the request failed (its reason in *reason).
int32_t first_step_tokens(const std::vector<ParamSetting>& params, int32_t prompt_len,
                          int32_t max_model_len, std::string* reason) {
  auto kv = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 16)});
  auto s = create_brick(BRICKS_KIND_SCHEDULER, "fcfs", params);
  if (kv == nullptr || s == nullptr) return -2;
  s->wire(*kv);
  bricks_kv_geometry g{sizeof(bricks_kv_geometry), 1024, 0, 0, 1, 1};
  if (!take_error(kv->vt<bricks_kv_vtable>()->configure(kv->instance(), &g)).empty()) return -2;
  std::vector<int32_t> tokens(static_cast<size_t>(prompt_len), 7);
  bricks_request_view v{};
  v.id = 1;
  v.num_tokens = prompt_len;
  v.prompt_len = prompt_len;
  v.max_new_tokens = 4;
  v.tokens = tokens.data();
  bricks_sched_input in{sizeof(bricks_sched_input), &v, 1, 0.0, 0, max_model_len};
  bricks_step_plan plan{};
  const std::string err =
      take_error(s->vt<bricks_scheduler_vtable>()->schedule(s->instance(), &in, &plan));
  if (!err.empty()) return -2;
  if (plan.num_failed == 1) {
    *reason = plan.failed[0].reason;
    return -1;
  }
  return plan.num_items == 1 ? plan.items[0].num_tokens : 0;
}

TEST(FcfsSetup, AutoBudgetFitsEveryPromptTheModelTakesWithoutChunkedPrefill) {
  std::string reason;
  // vLLM's rule: the budget is the context (at least 2048), so a 3000-token prompt of a
  // 4096-token model runs whole in one step.
  EXPECT_EQ(first_step_tokens({}, 3000, 4096, &reason), 3000) << reason;
  // A host that does not say the context: 2048, and the prompt fails alone with the fix.
  EXPECT_EQ(first_step_tokens({}, 3000, 0, &reason), -1);
  EXPECT_NE(reason.find("more than max_num_batched_tokens=2048"), std::string::npos) << reason;
  // A written budget is kept as written.
  EXPECT_EQ(first_step_tokens({int_param("max_num_batched_tokens", 1024)}, 3000, 4096, &reason),
            -1);
  EXPECT_NE(reason.find("max_num_batched_tokens=1024"), std::string::npos) << reason;
  // With chunked prefill the auto budget is 2048 and long prompts run in chunks.
  EXPECT_EQ(first_step_tokens({bool_param("enable_chunked_prefill", true)}, 3000, 4096, &reason),
            2048);
}

}  // namespace
}  // namespace bricks::testing
