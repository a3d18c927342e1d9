// scheduler/sarathi: Sarathi-Serve's chunked prefills with stall-free batching.
//
// Each step runs every running decode first, then ongoing partial prefills, then new
// prompts in arrival order, chunked into the token budget left (the shared rule in
// stall_free.h); a prefill chunk smaller than min_chunk waits unless it ends the prompt.
//
// Budget under a time-between-tokens SLO (tbt_slo_ms > 0): every step's time, reported in
// on_step_done, feeds a least-squares fit of step seconds against the step's tokens
// (step_time_fit.h). Once a per-token cost is known, the step budget is the largest token
// count the fit predicts to finish within the SLO, never above token_budget and never below
// the number of running decodes (decodes are never stalled, so they may overrun the SLO)
// nor 1. Without the SLO, or before any cost is known, the budget is token_budget.
#pragma once

#include <cstdint>

#include "bricks/bricks.hpp"
#include "stall_free.h"
#include "step_time_fit.h"

namespace bricks::sarathi {

class SarathiScheduler final : public Scheduler {
 public:
  SarathiScheduler(const Host& host, const Params& params);

  // Throws sched::KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;
  void on_step_done(const bricks_step_result& result) override;

 private:
  int32_t token_budget_;
  double tbt_slo_s_;
  sched::StallFreeBatcher batcher_;
  StepTimeFit fit_;
  int64_t last_tokens_ = 0;  // tokens of the plan on_step_done reports on
};

}  // namespace bricks::sarathi
