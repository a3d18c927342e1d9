// Stall-free chunked batching, the step rule shared by scheduler/sarathi and
// scheduler/splitfuse. One step under a token budget:
//   1. every running decode (one token left to compute) gets its token, in arrival order;
//      when a block is missing, the latest-arrived running request not yet scheduled is
//      preempted (possibly the decode itself);
//   2. running partial prefills (more than one token left) continue, in arrival order, with
//      min(left, budget left) tokens;
//   3. when nothing was preempted, swapped requests come back in arrival order while their
//      next tokens fit;
//   4. when nothing was preempted and none is left swapped, waiting requests are admitted in
//      arrival order into the budget left, chunked, after a prefix-cache lookup, while
//      running requests < max_num_seqs and KV allows.
// A prefill chunk smaller than min_chunk (capped at the step's budget) is not scheduled
// unless it finishes the prompt: the request waits for a step with more room.
//
// Keeps no request state between steps: everything comes from the views the host passes.
// Not thread-safe.
#pragma once

#include <cstdint>

#include "bricks/abi.h"
#include "bricks/params.hpp"
#include "bricks/step_batch.hpp"

namespace bricks::sched {

struct StallFreeConfig {
  const char* brick = "";    // the scheduler's name, for messages
  int32_t max_num_seqs = 1;  // running requests at most
  int32_t min_chunk = 1;     // smallest prefill chunk that does not finish a prompt
  bool swap = false;         // preempt by swap_out (fallback recompute) instead of recompute
};

// The config of a stall-free brick from its params: `preemption` (recompute or swap),
// `max_num_seqs` and, when `with_min_chunk`, `min_chunk` (else 1: prompts split anywhere).
// Throws Error::invalid naming "scheduler <brick>". `brick` is a string literal.
StallFreeConfig stall_free_config(const char* brick, const Params& params, bool with_min_chunk);

class StallFreeBatcher {
 public:
  explicit StallFreeBatcher(StallFreeConfig config)
      : config_(config), step_(config.brick, config.swap) {}

  // Binds the kv client on first use and checks the kv brick is configured. Throws
  // bricks::Error naming the brick and the fix.
  void prepare(const bricks_brick_ref& kv);
  // Fills `plan` for one step of at most `budget` tokens (>= 1). Throws KvError when a kv
  // call fails, bricks::Error on a malformed input.
  void schedule(const bricks_sched_input& input, int32_t budget, bricks_step_plan& plan);

  // Running requests of `input` with exactly one token left to compute (decodes).
  static int32_t num_decodes(const bricks_sched_input& input);
  // Tokens in the last plan.
  int64_t last_tokens() const { return step_.buf.total_tokens(); }

 private:
  void admit_waiting();
  int32_t min_chunk() const {
    return config_.min_chunk < budget_cap_ ? config_.min_chunk : budget_cap_;
  }

  StallFreeConfig config_;
  StepBatch step_;
  int32_t budget_cap_ = 0;
};

}  // namespace bricks::sched
