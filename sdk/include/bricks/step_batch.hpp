// bricks/step_batch.hpp: one step of a batching rule over the requests the host passes:
// the requests split by state, the running phase with its preemption rule, failures, and the
// plan buffers. A rule adds its own swap-in and admission phases over the public per-step
// state (the shipped scheduler/fcfs and the stall-free batcher of sarathi, splitfuse and
// disagg are built on it):
//
//   step.bind(host().wired(BRICKS_KIND_KV));
//   step.read_pool();
//   step.begin(input, token_budget);
//   step.schedule_running(StepBatch::Phase::kAll, 1);
//   if (!step.preempted_any) admit(step.waiting ...);   // the rule's own phases
//   step.buf.publish(plan);
//
// Running phase: running requests with tokens left compute min(left, budget left) tokens in
// arrival order (decodes only, partial prefills only, or both in one pass). When a block is
// missing, the latest-arrived running request not yet scheduled is preempted (swap where
// configured and the host tier has room, else recompute), possibly the request itself.
//
// Keeps no request state between steps; the vectors are reused so that a steady state
// allocates nothing. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bricks/abi.h"
#include "bricks/block_count.hpp"
#include "bricks/capabilities.h"
#include "bricks/error.hpp"
#include "bricks/kv_client.hpp"
#include "bricks/plan_buffers.hpp"

namespace bricks::sched {

// Holds the kv client, bound on first use, and the per-step state below.
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
  // Returns whether a pass of the other phase could schedule anything: budget is left and
  // the pass went by an unmarked request that the other phase picks (never with kAll). A
  // rule that runs kDecodes then kPrefills skips the second pass when it returns false.
  bool schedule_running(Phase phase, int32_t min_chunk);
  // Brings swapped requests back, oldest first, each with its next tokens in the budget,
  // while max_num_seqs and the free blocks allow; fails those that can never come back (no
  // swap_in on the kv brick, or larger than the pool). With `need_budget`, a request with
  // tokens left comes back only if some of them fit the budget. False when one had to stay
  // out (then nothing newer may be admitted this step).
  bool swap_in_swapped(int64_t max_num_seqs, bool need_budget);
  // Preempts running[k] and marks it.
  void preempt(size_t k);
  // Fails the request at view `index`, releasing any KV it holds.
  void fail(int32_t index, std::string reason);
  // The message for a request needing more blocks than the whole pool for `tokens` tokens.
  std::string too_big(const bricks_request_view& r, int64_t tokens) const;
  // Why waiting request `r` can never be admitted, or "" (admit_refusal, bricks/kv_client.hpp).
  std::string admit_refusal(const bricks_request_view& r) const {
    return sched::admit_refusal(r, count_, pool_blocks);
  }
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
  int32_t num_partial = 0;  // running requests with more than one token left, at begin()
  bool preempted_any = false;
  std::vector<int32_t> running, waiting, swapped;  // view indices, arrival order
  std::vector<Mark> marks;                         // per running entry
  PlanBuffers buf;

 private:
  // After kv.extend failed for running[k]: preempts as the running phase says until the
  // extend succeeds. Returns false when running[k] itself was preempted.
  bool make_room(size_t k, int32_t tokens);

  const char* brick_;
  bool swap_;
  BlockCount count_;  // over block_size
};

inline void StepBatch::bind(const bricks_brick_ref& ref) {
  if (kv.bound()) return;
  KvClient client;
  client.bind(ref, brick_);
  if (swap_ && !client.has_swap()) {
    throw Error::invalid(std::string("scheduler ") + brick_ +
                         ": preemption=swap needs a kv brick with capability " BRICKS_CAP_KV_SWAP
                         " (swap_out, swap_in, take_copies); wire one such as kv/paged or set "
                         "preemption: recompute");
  }
  kv = client;
}

inline void StepBatch::check_input(const bricks_sched_input& input) const {
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid(std::string("scheduler ") + brick_ +
                         ": schedule needs num_requests >= 0 and a request array");
  }
}

inline void StepBatch::read_pool() {
  const KvPoolSize pool = read_kv_pool(kv, brick_);
  block_size = pool.block_size;
  pool_blocks = pool.blocks;
  if (count_.block_size() != block_size) count_ = BlockCount(block_size);
}

inline void StepBatch::begin(const bricks_sched_input& input, int32_t step_budget) {
  check_input(input);
  buf.clear();
  budget = step_budget;
  preempted_any = false;
  views = input.requests;
  running.clear();
  waiting.clear();
  swapped.clear();
  int32_t partial = 0;
  for (int32_t i = 0; i < input.num_requests; ++i) {
    switch (views[i].state) {
      case BRICKS_REQ_RUNNING:
        running.push_back(i);
        partial += views[i].num_tokens - views[i].num_computed > 1 ? 1 : 0;
        break;
      case BRICKS_REQ_SWAPPED:
        swapped.push_back(i);
        break;
      default:
        waiting.push_back(i);
        break;
    }
  }
  marks.assign(running.size(), kUnscheduled);
  num_running = static_cast<int32_t>(running.size());
  num_partial = partial;
}

inline void StepBatch::preempt(size_t k) {
  const uint64_t id = views[running[k]].id;
  buf.preempted.push_back({id, kv.preempt(id, swap_)});
  marks[k] = kPreempted;
  --num_running;
  preempted_any = true;
}

inline void StepBatch::fail(int32_t index, std::string reason) {
  const uint64_t id = views[index].id;
  kv.release(id);
  buf.fail(id, std::move(reason));
}

inline bool StepBatch::swap_in_swapped(int64_t max_num_seqs, bool need_budget) {
  for (int32_t index : swapped) {
    const bricks_request_view& r = views[index];
    if (std::string why = swap_in_refusal(kv, r, count_, pool_blocks); !why.empty()) {
      fail(index, std::move(why));
      continue;
    }
    const int32_t left = std::max(r.num_tokens - r.num_computed, 0);
    const int32_t tokens = std::min(left, budget);
    // Only when its next tokens fit too: swapping in a request that cannot compute would
    // just swap it out again at the next block shortage.
    if (num_running >= max_num_seqs || (need_budget && left > 0 && tokens <= 0) ||
        kv.stats().free_device_blocks < blocks_for(static_cast<int64_t>(r.num_computed) + tokens) ||
        !kv.swap_in(r.id)) {
      return false;
    }
    buf.swapped_in.push_back(r.id);
    ++num_running;
    // Cannot fail after the check above; if it does, the request runs next step.
    if (tokens > 0 && kv.allocate(r, 0, tokens)) {
      buf.items.push_back({r.id, tokens, 0});
      budget -= tokens;
    }
  }
  return true;
}

inline std::string StepBatch::too_big(const bricks_request_view& r, int64_t tokens) const {
  return too_big_reason(r, tokens, count_, pool_blocks);
}

inline bool StepBatch::make_room(size_t k, int32_t tokens) {
  const bricks_request_view& r = views[running[k]];
  do {
    size_t victim = running.size();
    while (victim > 0 && marks[victim - 1] != kUnscheduled) --victim;
    // running[k] is unscheduled, so a victim always exists: the latest-arrived one.
    preempt(victim - 1);
    if (victim - 1 == k) return false;
  } while (!kv.extend(r, tokens));
  return true;
}

inline bool StepBatch::schedule_running(Phase phase, int32_t min_chunk) {
  // In locals, which the loop keeps in registers (the calls in it could change members as
  // far as the compiler knows); neither array is resized during the phase.
  const bricks_request_view* const view = views;
  const int32_t* const run = running.data();
  Mark* const mark = marks.data();
  const size_t n = running.size();
  bool other = false;
  for (size_t k = 0; k < n; ++k) {
    if (mark[k] != kUnscheduled) continue;
    const int32_t index = run[k];
    const bricks_request_view& r = view[index];
    const int32_t left = r.num_tokens - r.num_computed;
    if (left <= 0) continue;
    if (phase != Phase::kAll && (left == 1) != (phase == Phase::kDecodes)) {
      other = true;
      continue;
    }
    if (budget <= 0) return false;
    const int32_t tokens = std::min(left, budget);
    if (tokens < left && tokens < min_chunk) continue;  // a later step has more room
    const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
    if (blocks_for(after) > pool_blocks) {
      fail(index, too_big(r, after));
      mark[k] = kPreempted;
      --num_running;
      continue;
    }
    if (!kv.extend(r, tokens) && !make_room(k, tokens)) continue;
    mark[k] = kScheduled;
    buf.items.push_back({r.id, tokens, 0});
    budget -= tokens;
  }
  return other && budget > 0;
}

}  // namespace bricks::sched
