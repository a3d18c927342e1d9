// scheduler/batchllm: BatchLLM for large batch (offline) jobs.
//
// Every time requests the scheduler has not seen appear, it regroups all live requests by
// their shared prompt prefixes and orders them (prefix_groups.h): groups by decode/prefill
// ratio, decode-heavy first, so long decodes overlap the prefills that follow.
//
// One step under token_budget, decode first (the stall-free rule of sarathi):
//   1. running decodes, then running partial prefills, in admission order; a missing block
//      first drops the prefix pin, then preempts the running request latest in that order
//      (swap where the preemption mode and the kv brick allow, else recompute);
//   2. when nothing was preempted, swapped requests come back while their next tokens fit;
//   3. when none is left swapped, waiting requests are admitted in order: those preempted
//      before, then the admission order. A group's followers are admitted right after its
//      leader once the shared prefix is in the kv brick's prefix cache (taking num_cached
//      from lookup_prefix); while a member still computes it, admission waits. A request is
//      admitted only while the projected KV use fits the free blocks (memory-centric
//      batching): every running request's tokens plus reserve_ratio of its outputs still to
//      come, plus the candidate's; max_num_seqs stays an upper bound. Prompts are chunked
//      into the budget left; a chunk under min_chunk waits unless it ends the prompt.
//   4. the next group's shared prefix is pinned (pin_prefixes): held by the scheduler under a
//      reserved id (top bit set) through the kv brick's allocate/release, so no eviction
//      loses it before the followers come. Any kv brick with a prefix cache works.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bricks/block_count.hpp"
#include "bricks/bricks.hpp"
#include "bricks/kv_client.hpp"
#include "bricks/plan_buffers.hpp"
#include "bricks/view_carry.hpp"
#include "prefix_groups.h"

namespace bricks::batchllm {

struct BatchLlmConfig {
  int32_t token_budget = 2048;
  int32_t max_num_seqs = 256;
  int32_t min_chunk = 32;
  double reserve_ratio = 0.5;
  bool pin_prefixes = true;
  std::string preemption = "auto";  // auto, recompute, swap
  int32_t min_group_size = 2;
  int32_t min_prefix_blocks = 1;
};

class BatchLlmScheduler final : public Scheduler {
 public:
  BatchLlmScheduler(const Host& host, const Params& params);

  // Throws sched::KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

  // Request ids with this bit set are the scheduler's prefix pins, never engine requests.
  static constexpr uint64_t kPinIdBit = 1ULL << 63;

 private:
  enum Mark : uint8_t { kUnscheduled, kScheduled, kPreempted };

  void prepare();
  // Places every view (rank_, group_), carrying places over from the last step; regroups
  // when a request the grouping does not know appears.
  void place(const bricks_sched_input& input);
  void classify(const bricks_sched_input& input);
  // The group index of the request at view `index`, or -1 when the grouping does not know it.
  int32_t group_of(int32_t index) const { return group_[static_cast<size_t>(index)]; }
  int32_t prefix_of(int32_t group) const;

  // One pass over the running requests, decodes or prefills. The decode pass returns
  // whether a prefill pass could schedule anything: some running request it passed has
  // more than one token left and budget is left.
  bool schedule_running(bool decodes);
  // After kv_.extend failed for running_[k]: drops the prefix pin or preempts, latest in
  // admission order first, until the extend succeeds. Returns false when running_[k]
  // itself was preempted.
  bool make_room(size_t k, int32_t tokens);
  void preempt(size_t k);
  bool schedule_swapped();
  // reserved_, with the growth reserved for the requests that ran in the running phase
  // added on first use: only admission reads it, and most steps admit nothing.
  int64_t reserved();
  void admit_waiting();
  void update_pin();
  void drop_pin();

  void fail(int32_t index, std::string reason);
  std::string too_big(const bricks_request_view& r, int64_t tokens) const;
  int64_t blocks_for(int64_t tokens) const { return count_(tokens); }
  // Tokens `r` is expected to hold at its peak: what it holds now plus reserve_ratio of the
  // outputs still to come.
  int64_t projected_tokens(const bricks_request_view& r) const;
  int32_t min_chunk() const {
    return config_.min_chunk < budget_cap_ ? config_.min_chunk : budget_cap_;
  }

  BatchLlmConfig config_;
  bool swap_ = false;
  sched::KvClient kv_;
  PrefixGrouper grouper_;
  bool grouper_ready_ = false;
  uint64_t pin_id_ = 0;              // the held pin; 0: none
  std::vector<int32_t> pin_tokens_;  // the pinned prefix
  uint64_t next_pin_ = 1;

  // Places by view index, kept between steps for the grouping generation they came from.
  sched::ViewCarry carry_;
  uint64_t placed_generation_ = 0;
  bool places_kept_ = false;                // this step's places are the last step's, unchanged
  std::vector<int64_t> rank_, old_rank_;    // [view index] position in the admission order
  std::vector<int32_t> group_, old_group_;  // [view index] group, -1 when not grouped

  // Per-step state.
  const bricks_request_view* views_ = nullptr;
  int32_t block_size_ = 1;
  sched::BlockCount count_;  // over block_size_
  int64_t pool_blocks_ = 0;
  int32_t budget_cap_ = 0;
  int32_t budget_ = 0;
  int32_t num_running_ = 0;
  // Blocks running requests are expected to grow by: swapped in and admitted ones, and
  // once running_reserved_, those of the running phase.
  int64_t reserved_ = 0;
  bool running_reserved_ = false;
  bool preempted_any_ = false;
  // View indices in admission order; kept between steps so that sorting is mostly a check.
  std::vector<int32_t> running_, waiting_, swapped_;
  std::vector<uint8_t> states_;   // [view index] running, swapped or waiting
  std::vector<uint8_t> preempted_before_;  // [view index] num_preemptions > 0
  std::vector<Mark> marks_;       // per running_ entry
  std::vector<int32_t> planned_;  // per running_ entry: tokens this step
  std::vector<uint8_t> taken_;    // per waiting_ entry: admitted or failed
  // Per group: a running or just admitted member has not computed the shared prefix yet /
  // a running member has. Followers wait only while the first holds and the second does
  // not, so a kv brick that caches nothing never serialises a group.
  std::vector<uint8_t> computing_, computed_;
  // Whether some group of the grouping generation shared_generation_ has a shared prefix.
  uint64_t shared_generation_ = UINT64_MAX;
  bool shared_prefixes_ = false;
  sched::PlanBuffers buf_;
};

}  // namespace bricks::batchllm
