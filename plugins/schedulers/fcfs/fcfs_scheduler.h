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
#include <vector>

#include "bricks/bricks.hpp"
#include "kv_client.h"

namespace bricks::fcfs {

using sched::KvClient;
using sched::KvError;

class FcfsScheduler final : public Scheduler {
 public:
  FcfsScheduler(const Host& host, const Params& params);

  // Throws KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

 private:
  // Running requests compute what they have left (decode: one token); a missing block
  // preempts the latest-arrived running request not yet scheduled, possibly the request itself.
  void schedule_running();
  // Swapped requests in arrival order, until the first that does not fit. Returns whether
  // none is left swapped (each came back or failed).
  bool schedule_swapped_all();
  // Waiting requests in arrival order; in v0 mode also continues running partial prefills.
  // Returns whether any prefill was scheduled.
  bool schedule_prefills();
  void preempt(int32_t index);
  void fail(int32_t index, std::string reason);
  std::string too_big(const bricks_request_view& r, int64_t tokens) const;
  int64_t blocks_for(int64_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }
  const bricks_request_view& req(int32_t index) const { return views_[index]; }

  int32_t max_num_seqs_;
  int32_t max_num_batched_tokens_;
  bool swap_mode_;
  bool chunked_;
  KvClient kv_;

  // Per-step state.
  const bricks_request_view* views_ = nullptr;
  int32_t block_size_ = 1;
  int64_t pool_blocks_ = 0;
  int32_t budget_ = 0;
  int32_t num_running_ = 0;
  bool preempted_any_ = false;
  std::vector<int32_t> running_, waiting_, swapped_;  // view indices, arrival order
  std::vector<bricks_sched_item> items_;
  std::vector<bricks_sched_preemption> preempted_;
  std::vector<uint64_t> swapped_in_;
  std::vector<bricks_sched_failure> failed_;
  std::vector<std::string> reasons_;
};

}  // namespace bricks::fcfs
