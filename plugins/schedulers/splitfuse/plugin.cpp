// The scheduler/splitfuse plugin.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "bricks/bricks.hpp"
#include "bricks/scheduler_entry.hpp"
#include "splitfuse_scheduler.h"

namespace {

using bricks::splitfuse::SplitFuseScheduler;

const bricks_param_spec kParams[] = {
    bricks::param_int("forward_size", 768, 1, 1 << 20,
                      "Tokens each forward pass is filled to (and never exceeds)."),
    bricks::sched::max_num_seqs_param(256),
    bricks::sched::preemption_param(),
};

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_splitfuse", "1.0.0", "Apache-2.0",
              bricks::sched::describe_scheduler<SplitFuseScheduler>(
                  "splitfuse", "1.0.0",
                  "DeepSpeed-FastGen Dynamic SplitFuse: fixed-size forward passes of decodes and "
                  "split or fused prompt chunks.")
                  .params(kParams))
