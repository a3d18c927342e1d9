// scheduler/disagg: one instance of DistServe-style disaggregated serving. Prefill and
// decode run on separate instances (engines), each with this brick in one role; the
// cluster (core/cluster/cluster.h) routes requests, moves their KV from the prefill to the
// decode instance and reads the placement params (instance counts, tensor parallelism,
// link) from the same brick's params.
//
// role = prefill: prefill-only batches. Partial prefills continue and new prompts are
// admitted in arrival order, chunked into prefill_token_budget. The cluster submits each
// request here with max_new_tokens = 1, so it finishes (and its KV is released) with its
// first token and never decodes here. Run alone, a request that stays to decode only runs
// in steps that have no prefill work left (or nothing else could run), so nothing starves.
//
// role = decode: decode-maximal batches. Every running decode gets its token first; then
// new requests are admitted whole, in arrival order, while their KV fits and the step's
// tokens stay within decode_token_budget. A request handed over by the cluster arrives with
// its prompt's KV transferred (RequestSpec::kv_ready_tokens): it is admitted like a prompt
// of prompt_len + 1 tokens, its blocks are allocated here, and the device computes only the
// last token. A prompt longer than the budget is split into budget-sized chunks.
//
// Both roles keep no request state between steps; preemption (recompute or swap) takes the
// latest-arrived running request, as in the shared stall-free rule (stall_free.h).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/bricks.hpp"
#include "stall_free.h"

namespace bricks::disagg {

enum class Role { kPrefill, kDecode };

class DisaggScheduler final : public Scheduler {
 public:
  DisaggScheduler(const Host& host, const Params& params);

  // Throws sched::KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

  Role role() const { return role_; }

 private:
  // Prefill role: the batcher sees every request except the running decodes, with the
  // admissions capped so that decodes + running + admitted stays within max_num_seqs.
  // Returns false when the input has no prefill work (nothing would be hidden for a reason).
  bool prefill_only_view(const bricks_sched_input& input, bricks_sched_input& out);

  Role role_;
  int32_t max_num_seqs_;
  int32_t budget_;
  sched::StallFreeBatcher batcher_;
  std::vector<bricks_request_view> visible_;  // the prefill-only view, reused
};

}  // namespace bricks::disagg
