// scheduler/fcfs: vLLM-style continuous batching, first come first served.
//
// Without chunked prefill (vLLM v0's default): prefills first, whole prompts in arrival
// order under the token budget, stopping at the first that does not fit; only when no
// prefill runs, every running request decodes one token, preempting the latest arrival when
// a block is missing; swapped requests come back, once their next tokens fit too, before
// any new admission.
// With chunked prefill (vLLM v1): running requests first, then swap-ins, then the next
// waiting prompts chunked into the budget left.
//
// Keeps no request state between steps: everything comes from the views the host passes.
// Plan arrays are member vectors reused every step. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "bricks/bricks.hpp"
#include "bricks/step_batch.hpp"

namespace bricks::fcfs {

using sched::KvClient;
using sched::KvError;

class FcfsScheduler final : public Scheduler {
 public:
  FcfsScheduler(const Host& host, const Params& params);

  // Throws KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

 private:
  // Waiting requests in arrival order; in v0 mode also continues running partial prefills.
  // Returns whether any prefill was scheduled.
  bool schedule_prefills();
  // The step's token budget: max_num_batched_tokens, or when that is 0 (auto) the model's
  // context but at least kAutoBudget without chunked prefill (vLLM's rule: every prompt
  // the model takes fits one step) and kAutoBudget with it.
  int32_t token_budget(const bricks_sched_input& input) const;

  static constexpr int32_t kAutoBudget = 2048;
  int32_t max_num_seqs_;
  int32_t max_num_batched_tokens_;  // as configured; 0: auto
  int32_t budget_ = kAutoBudget;    // this step's token_budget()
  bool chunked_;
  // The running phase (every running request in one pass, arrival order, with the
  // latest-arrival preemption rule) and the per-step state.
  sched::StepBatch step_;
};

}  // namespace bricks::fcfs
