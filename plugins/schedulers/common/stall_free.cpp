#include "stall_free.h"

#include <algorithm>

namespace bricks::sched {

void StallFreeBatcher::prepare(const bricks_brick_ref& kv) {
  step_.bind(kv);
  step_.read_pool();
}

int32_t StallFreeBatcher::num_decodes(const bricks_sched_input& input) {
  int32_t n = 0;
  for (int32_t i = 0; i < input.num_requests; ++i) {
    const bricks_request_view& r = input.requests[i];
    n += (r.state == BRICKS_REQ_RUNNING && r.num_tokens - r.num_computed == 1) ? 1 : 0;
  }
  return n;
}

void StallFreeBatcher::schedule(const bricks_sched_input& input, int32_t budget,
                                bricks_step_plan& plan) {
  budget_cap_ = std::max(budget, 1);
  step_.begin(input, budget_cap_);
  if (step_.schedule_running(StepBatch::Phase::kDecodes, min_chunk())) {
    step_.schedule_running(StepBatch::Phase::kPrefills, min_chunk());
  }
  if (!step_.preempted_any && step_.swap_in_swapped(config_.max_num_seqs, true)) {
    admit_waiting();
  }
  step_.buf.publish(plan);
}

void StallFreeBatcher::admit_waiting() {
  StepBatch& s = step_;
  for (int32_t index : s.waiting) {
    const bricks_request_view& r = s.views[index];
    if (std::string why = s.admit_refusal(r); !why.empty()) {
      s.fail(index, std::move(why));
      continue;
    }
    if (s.num_running >= config_.max_num_seqs || s.budget <= 0) return;
    int32_t cached = s.kv.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens) cached = 0;
    const int32_t want = r.num_tokens - cached;
    const int32_t tokens = std::min(want, s.budget);
    if (tokens < want && tokens < min_chunk()) return;  // keeps arrival order
    if (!s.kv.allocate(r, cached, tokens)) return;
    s.buf.items.push_back({r.id, tokens, cached});
    s.budget -= tokens;
    ++s.num_running;
  }
}

}  // namespace bricks::sched
