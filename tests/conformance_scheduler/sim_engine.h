// A small simulated engine that drives a scheduler brick wired to a kv brick step by step,
// as the real engine does, and checks every plan against the scheduler and kv contracts.
//
// It keeps a token-level picture of the device and host pools: each step it runs the kv
// brick's block copies, writes every computed token into the slot the kv brick gave, and
// reads every running request's whole sequence back through its page table. A block shared
// by mistake, a lost swap or a wrong prefix hit shows up as a token that does not match.
// Contract violations are reported as GoogleTest failures naming the step and request.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {

struct SimRequestSpec {
  uint64_t id = 0;
  int64_t arrival_step = 0;  // becomes live at this step
  std::vector<int32_t> prompt;
  int32_t max_new_tokens = 1;
  // Passed to the bricks in the request view as the engine passes them.
  int32_t priority = 0;
  int32_t tenant = 0;
  uint64_t conversation = 0;
  int32_t turn = 0;
  uint64_t prefix_group = 0;
};

// What the scheduler under test promises; the engine checks every plan against it.
struct SimLimits {
  int32_t max_num_seqs = 256;
  int32_t max_num_batched_tokens = 2048;
};

struct SimGeometry {
  int32_t device_blocks = 64;
  int32_t host_blocks = 0;
};

enum class SimOutcome { kLive, kFinished, kFailed };

// How assertion messages show an outcome.
inline void PrintTo(SimOutcome o, std::ostream* os) {
  *os << (o == SimOutcome::kLive ? "live" : o == SimOutcome::kFinished ? "finished" : "failed");
}

struct SimRequest {
  SimRequestSpec spec;
  std::vector<int32_t> tokens;  // prompt + generated
  bricks_request_state state = BRICKS_REQ_WAITING;
  int32_t num_computed = 0;
  int32_t num_generated = 0;
  int32_t num_preemptions = 0;
  SimOutcome outcome = SimOutcome::kLive;
  std::string reason;  // why it failed
  int64_t end_step = -1;
};

struct SimCounters {
  int64_t items = 0;
  int64_t recompute_preemptions = 0;
  int64_t swap_preemptions = 0;
  int64_t swap_ins = 0;
  int64_t cached_tokens = 0;  // num_cached granted by plans
  int64_t copies = 0;         // block copy runs executed
};

// A copy of the last plan, for tests that look at single steps.
struct SimStep {
  std::vector<bricks_sched_item> items;
  std::vector<bricks_sched_preemption> preempted;
  std::vector<uint64_t> swapped_in;
  std::vector<uint64_t> failed;
};

class SimEngine {
 public:
  // `scheduler` must already be wired to `kv`; the engine configures `kv` with `geometry`.
  SimEngine(HarnessBrick& scheduler, HarnessBrick& kv, SimGeometry geometry, SimLimits limits);

  // Requests are live in the order added (their arrival order).
  void add(SimRequestSpec spec);
  // One engine step; returns false once a contract violation was reported.
  bool step();
  // Steps until every request ended, a violation, or `max_steps`. Returns the steps run.
  int64_t run(int64_t max_steps);

  bool all_ended() const;
  int64_t steps() const { return step_; }
  int32_t block_size() const { return block_size_; }
  const std::vector<SimRequest>& requests() const { return requests_; }
  const SimRequest& request(uint64_t id) const;
  const SimCounters& counters() const { return counters_; }
  const SimStep& last() const { return last_; }
  // One line per step: the plan as text, for comparing two runs.
  const std::vector<std::string>& trace() const { return trace_; }
  const bricks_kv_stats kv_stats() const;

 private:
  SimRequest* find(uint64_t id);
  bool violation(const std::string& message);
  bool check_running_contents();
  bool apply_copies();
  bool compute_items(const bricks_step_plan& plan);

  HarnessBrick& scheduler_;
  HarnessBrick& kv_;
  const bricks_scheduler_vtable* svt_;
  const bricks_kv_vtable* kvt_;
  SimGeometry geometry_;
  SimLimits limits_;
  int32_t block_size_ = 0;
  int64_t step_ = 0;
  bool broken_ = false;
  std::vector<SimRequest> requests_;
  std::vector<int32_t> device_;  // [device_blocks * block_size] token id per slot, -1 empty
  std::vector<int32_t> host_;    // [host_blocks * block_size]
  std::vector<bricks_request_view> views_;
  std::vector<std::string> trace_;
  SimCounters counters_;
  SimStep last_;
};

// A seeded random workload: prompts with shared prefixes, a few that cannot fit the pool.
struct WorkloadShape {
  int32_t num_requests = 40;
  int32_t max_prompt = 40;
  int32_t max_new = 24;
  int32_t num_prefix_groups = 3;  // requests in a group share a leading prefix
  int32_t shared_prefix_len = 16;
  int32_t arrival_spread = 30;  // arrivals spread over this many steps
  int32_t oversized_every = 0;  // every n-th request gets a prompt of `oversized_len`; 0: none
  int32_t oversized_len = 0;
};
std::vector<SimRequestSpec> random_workload(uint32_t seed, const WorkloadShape& shape);

}  // namespace bricks::testing
