// One step of a batching rule over the requests the host passes: the requests split by
// state, the running phase with its preemption rule, failures, and the plan buffers. The
// rules of scheduler/fcfs and of the stall-free batcher (sarathi, splitfuse) are built on it;
// each adds its own swap-in and admission phases over the public per-step state.
//
// Running phase: running requests with tokens left compute min(left, budget left) tokens in
// arrival order (decodes only, partial prefills only, or both in one pass). When a block is
// missing, the latest-arrived running request not yet scheduled is preempted (swap where
// configured and the host tier has room, else recompute), possibly the request itself.
//
// Keeps no request state between steps; the vectors are reused so that a steady state
// allocates nothing. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "block_count.h"
#include "bricks/abi.h"
#include "kv_client.h"
#include "plan_buffers.h"

namespace bricks::sched {

class StepBatch {
 public:
  enum class Phase : uint8_t {
    kDecodes,   // running requests with exactly one token left
    kPrefills,  // running requests with more than one token left
    kAll,       // both, in one pass
  };
  enum Mark : uint8_t { kUnscheduled, kScheduled, kPreempted };

  // `brick` names the scheduler in messages (a string literal); `swap` preempts by swap_out
  // (recompute when the host tier is full) instead of recompute.
  StepBatch(const char* brick, bool swap) : brick_(brick), swap_(swap) {}

  // Binds the kv client on first use; throws bricks::Error naming the brick and the fix when
  // no kv brick is wired, or swap is asked of one without kv.swap.
  void bind(const bricks_brick_ref& kv);
  // Throws bricks::Error on a malformed input.
  void check_input(const bricks_sched_input& input) const;
  // Reads the block size and pool size; throws bricks::Error when the kv brick is not
  // configured.
  void read_pool();
  // Starts a step of at most `budget` tokens: clears the plan and splits the requests.
  void begin(const bricks_sched_input& input, int32_t budget);
  // The running phase (see above) for the requests `phase` picks that are not yet marked. A
  // chunk smaller than min_chunk that does not finish the prefill waits for a later step.
  void schedule_running(Phase phase, int32_t min_chunk);
  // Preempts running[k] and marks it.
  void preempt(size_t k);
  // Fails the request at view `index`, releasing any KV it holds.
  void fail(int32_t index, std::string reason);
  // The message for a request needing more blocks than the whole pool for `tokens` tokens.
  std::string too_big(const bricks_request_view& r, int64_t tokens) const;
  static std::string id_text(uint64_t id) { return "request " + std::to_string(id); }
  int64_t blocks_for(int64_t tokens) const { return count_(tokens); }
  const char* brick() const { return brick_; }
  bool swap() const { return swap_; }

  KvClient kv;
  // Per-step state, valid from begin() to the next begin().
  const bricks_request_view* views = nullptr;
  int32_t block_size = 1;
  int64_t pool_blocks = 0;
  int32_t budget = 0;
  int32_t num_running = 0;  // running requests, less those preempted or failed this step
  bool preempted_any = false;
  std::vector<int32_t> running, waiting, swapped;  // view indices, arrival order
  std::vector<Mark> marks;                         // per running entry
  PlanBuffers buf;

 private:
  // Allocates `tokens` for running[k], preempting as the running phase says. Returns false
  // when running[k] itself was preempted.
  bool allocate_running(size_t k, int32_t tokens);

  const char* brick_;
  bool swap_;
  BlockCount count_;  // over block_size
};

}  // namespace bricks::sched
