#include "fcfs_scheduler.h"

#include <algorithm>

namespace bricks::fcfs {

using sched::StepBatch;

FcfsScheduler::FcfsScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      max_num_seqs_(static_cast<int32_t>(params.get_int("max_num_seqs"))),
      max_num_batched_tokens_(static_cast<int32_t>(params.get_int("max_num_batched_tokens"))),
      chunked_(params.get_bool("enable_chunked_prefill")),
      step_("fcfs", params.get_string("preemption") == "swap") {
  const std::string mode = params.get_string("preemption");
  if (mode != "recompute" && mode != "swap") {
    throw Error::invalid("scheduler fcfs: preemption '" + mode + "' is not one of recompute, swap");
  }
  if (max_num_seqs_ < 1 || max_num_batched_tokens_ < 0) {
    throw Error::invalid(
        "scheduler fcfs: max_num_seqs must be >= 1 and max_num_batched_tokens >= 0 (0: auto)");
  }
}

int32_t FcfsScheduler::token_budget(const bricks_sched_input& input) const {
  if (max_num_batched_tokens_ > 0) return max_num_batched_tokens_;
  return chunked_ ? kAutoBudget : std::max(kAutoBudget, bricks_sched_max_model_len(&input));
}

void FcfsScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  step_.bind(host().wired(BRICKS_KIND_KV));
  step_.check_input(input);
  step_.read_pool();
  budget_ = token_budget(input);
  step_.begin(input, budget_);

  if (chunked_) {
    step_.schedule_running(StepBatch::Phase::kAll, 1);
    const bool all_back = !step_.preempted_any && step_.swap_in_swapped(max_num_seqs_, false);
    if (all_back) schedule_prefills();
  } else {
    const bool prefilled = step_.swapped.empty() && schedule_prefills();
    if (!prefilled) {
      step_.schedule_running(StepBatch::Phase::kAll, 1);
      if (!step_.preempted_any) step_.swap_in_swapped(max_num_seqs_, false);
    }
  }
  step_.buf.publish(plan);
}

bool FcfsScheduler::schedule_prefills() {
  StepBatch& s = step_;
  bool any = false;
  if (!chunked_ && s.num_partial > 0) {
    // Recomputes longer than the budget run in chunks; finish those first.
    const bricks_request_view* const views = s.views;  // kept in a register by the loop
    for (int32_t index : s.running) {
      const bricks_request_view& r = views[index];
      const int32_t left = r.num_tokens - r.num_computed;
      if (left <= 1) continue;
      if (s.budget <= 0) return any;
      const int32_t tokens = std::min(left, s.budget);
      if (s.blocks_for(static_cast<int64_t>(r.num_computed) + tokens) > s.pool_blocks ||
          !s.kv.extend(r, tokens)) {
        return any;
      }
      s.buf.items.push_back({r.id, tokens, 0});
      s.budget -= tokens;
      any = true;
    }
  }
  for (int32_t index : s.waiting) {
    const bricks_request_view& r = s.views[index];
    if (std::string why = s.admit_refusal(r); !why.empty()) {
      s.fail(index, std::move(why));
      continue;
    }
    if (!chunked_ && r.prompt_len > budget_) {
      s.fail(index, StepBatch::id_text(r.id) + " has a prompt of " + std::to_string(r.prompt_len) +
                        " tokens, more than max_num_batched_tokens=" + std::to_string(budget_) +
                        "; raise it or set enable_chunked_prefill");
      continue;
    }
    if (s.num_running >= max_num_seqs_ || s.budget <= 0) break;
    int32_t cached = s.kv.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens) cached = 0;
    const int32_t want = r.num_tokens - cached;
    int32_t tokens = want;
    if (want > s.budget) {
      // A recompute of prompt + output may exceed the budget though the prompt did not:
      // it runs in chunks so that preemption never turns into failure.
      if (!chunked_ && want <= budget_) break;
      tokens = s.budget;
    }
    if (!s.kv.allocate(r, cached, tokens)) break;
    s.buf.items.push_back({r.id, tokens, cached});
    s.budget -= tokens;
    ++s.num_running;
    any = true;
    if (tokens < want) break;
  }
  return any;
}

}  // namespace bricks::fcfs
