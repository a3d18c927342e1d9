// The scheduler/fcfs plugin.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "bricks/bricks.hpp"
#include "bricks/scheduler_entry.hpp"
#include "fcfs_scheduler.h"

namespace {

using bricks::fcfs::FcfsScheduler;

const bricks_param_spec kParams[] = {
    bricks::sched::max_num_seqs_param(256),
    bricks::param_int("max_num_batched_tokens", 0, 0, 1 << 20,
                      "Most tokens computed in one step, over all requests. 0: auto, the "
                      "model's context but at least 2048 without chunked prefill (so every "
                      "prompt the model takes fits one step, as vLLM sizes it), 2048 with it."),
    bricks::sched::preemption_param(),
    bricks::param_bool("enable_chunked_prefill", false,
                       "Schedule running requests first and chunk prompts into the budget left "
                       "(vLLM v1); off: whole prompts first, decodes when none fits (vLLM v0)."),
};

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_fcfs", "1.0.0", "Apache-2.0",
              bricks::sched::describe_scheduler<FcfsScheduler>(
                  "fcfs", "1.0.0",
                  "vLLM-style continuous batching: FCFS, prefill first, preemption.")
                  .params(kParams))
