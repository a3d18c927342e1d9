// The scheduler/fcfs plugin.
//
// The vtable comes from sched_entry.h rather than bricks::describe so that an error from the
// wired kv brick reaches the host unchanged (only the host can read or free it).
#include "bricks/bricks.hpp"
#include "fcfs_scheduler.h"
#include "sched_entry.h"

namespace {

using bricks::fcfs::FcfsScheduler;

const char* const kPreemption[] = {"recompute", "swap"};

const bricks_param_spec kParams[] = {
    bricks::param_int("max_num_seqs", 256, 1, 65536,
                      "Most requests holding device KV (and so computing) at once."),
    bricks::param_int("max_num_batched_tokens", 2048, 1, 1 << 20,
                      "Most tokens computed in one step, over all requests."),
    bricks::param_enum("preemption", "recompute", kPreemption,
                       "What a preempted request loses: recompute frees its KV, swap moves it "
                       "to the host tier (needs a kv brick with kv.swap)."),
    bricks::param_bool("enable_chunked_prefill", false,
                       "Schedule running requests first and chunk prompts into the budget left "
                       "(vLLM v1); off: whole prompts first, decodes when none fits (vLLM v0)."),
};

constexpr bricks_scheduler_vtable kVtable = bricks::sched::vtable<FcfsScheduler>();

bricks_brick_desc fcfs_desc() {
  bricks_brick_desc d =
      bricks::describe<FcfsScheduler>(
          "fcfs", "1.0.0", "vLLM-style continuous batching: FCFS, prefill first, preemption.")
          .params(kParams);
  d.vtable = &kVtable;
  return d;
}

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_fcfs", "1.0.0", "Apache-2.0", fcfs_desc())
