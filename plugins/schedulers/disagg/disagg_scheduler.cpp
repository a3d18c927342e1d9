#include "disagg_scheduler.h"

#include <algorithm>
#include <string>

namespace bricks::disagg {

namespace {

Role role_from(const Params& params) {
  const std::string role = params.get_string("role");
  if (role == "prefill") return Role::kPrefill;
  if (role == "decode") return Role::kDecode;
  throw Error::invalid("scheduler disagg: role '" + role + "' is not one of prefill, decode");
}

sched::StallFreeConfig config_from(const Params& params, Role role) {
  sched::StallFreeConfig c = sched::stall_free_config("disagg", params, true);
  // A decode instance admits whole prompts (their KV arrives transferred, so splitting them
  // saves no compute); the batcher caps min_chunk at the step budget.
  if (role == Role::kDecode) c.min_chunk = 1 << 30;
  return c;
}

int32_t budget_from(const Params& params, Role role) {
  const int64_t b = params.get_int(role == Role::kPrefill ? "prefill_token_budget"
                                                          : "decode_token_budget");
  if (b < 1) throw Error::invalid("scheduler disagg: the token budgets must be >= 1");
  return static_cast<int32_t>(b);
}

// A running request whose one remaining token samples its next output token.
bool is_decode(const bricks_request_view& r) {
  return r.state == BRICKS_REQ_RUNNING && r.num_tokens - r.num_computed == 1 &&
         r.num_generated > 0;
}

bool plan_is_empty(const bricks_step_plan& p) {
  return p.num_items == 0 && p.num_preempted == 0 && p.num_swapped_in == 0 &&
         p.num_failed == 0;
}

}  // namespace

DisaggScheduler::DisaggScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      role_(role_from(params)),
      max_num_seqs_(static_cast<int32_t>(params.get_int("max_num_seqs"))),
      budget_(budget_from(params, role_)),
      batcher_(config_from(params, role_)) {}

bool DisaggScheduler::prefill_only_view(const bricks_sched_input& input, bricks_sched_input& out) {
  int32_t decodes = 0, running = 0, others = 0;
  for (int32_t i = 0; i < input.num_requests; ++i) {
    const bricks_request_view& r = input.requests[i];
    if (is_decode(r)) {
      ++decodes;
    } else if (r.state == BRICKS_REQ_RUNNING) {
      ++running;
    } else {
      ++others;
    }
  }
  // Slots left for swap-ins and admissions once the hidden decodes are counted.
  const int32_t allowance = std::max(max_num_seqs_ - decodes - running, 0);
  if (decodes == 0 || (running == 0 && (others == 0 || allowance == 0))) return false;

  // Swapped requests come back before waiting ones are admitted: they get the slots first.
  int32_t swapped_slots = 0;
  for (int32_t i = 0; i < input.num_requests; ++i) {
    swapped_slots += input.requests[i].state == BRICKS_REQ_SWAPPED ? 1 : 0;
  }
  swapped_slots = std::min(swapped_slots, allowance);
  int32_t waiting_slots = allowance - swapped_slots;
  visible_.clear();
  for (int32_t i = 0; i < input.num_requests; ++i) {
    const bricks_request_view& r = input.requests[i];
    if (is_decode(r)) continue;
    if (r.state == BRICKS_REQ_SWAPPED) {
      if (swapped_slots == 0) continue;
      --swapped_slots;
    } else if (r.state == BRICKS_REQ_WAITING) {
      if (waiting_slots == 0) continue;
      --waiting_slots;
    }
    visible_.push_back(r);
  }
  out = input;
  out.requests = visible_.data();
  out.num_requests = static_cast<int32_t>(visible_.size());
  return true;
}

void DisaggScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  batcher_.prepare(host().wired(BRICKS_KIND_KV));
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid("scheduler disagg: schedule needs num_requests >= 0 and a request array");
  }
  if (role_ == Role::kPrefill) {
    bricks_sched_input prefills{};
    if (prefill_only_view(input, prefills)) {
      batcher_.schedule(prefills, budget_, plan);
      if (!plan_is_empty(plan)) return;
    }
  }
  batcher_.schedule(input, budget_, plan);
}

}  // namespace bricks::disagg
