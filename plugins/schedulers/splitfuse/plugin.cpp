// The scheduler/splitfuse plugin.
//
// The vtable comes from sched_entry.h rather than bricks::describe so that an error from the
// wired kv brick reaches the host unchanged (only the host can read or free it).
#include "bricks/bricks.hpp"
#include "sched_entry.h"
#include "splitfuse_scheduler.h"

namespace {

using bricks::splitfuse::SplitFuseScheduler;

const char* const kPreemption[] = {"recompute", "swap"};

const bricks_param_spec kParams[] = {
    bricks::param_int("forward_size", 768, 1, 1 << 20,
                      "Tokens each forward pass is filled to (and never exceeds)."),
    bricks::param_int("max_num_seqs", 256, 1, 65536,
                      "Most requests holding device KV (and so computing) at once."),
    bricks::param_enum("preemption", "recompute", kPreemption,
                       "What a preempted request loses: recompute frees its KV, swap moves it "
                       "to the host tier (needs a kv brick with kv.swap)."),
};

constexpr bricks_scheduler_vtable kVtable = bricks::sched::vtable<SplitFuseScheduler>();

bricks_brick_desc splitfuse_desc() {
  bricks_brick_desc d =
      bricks::describe<SplitFuseScheduler>(
          "splitfuse", "1.0.0",
          "DeepSpeed-FastGen Dynamic SplitFuse: fixed-size forward passes of decodes and "
          "split or fused prompt chunks.")
          .params(kParams);
  d.vtable = &kVtable;
  return d;
}

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_splitfuse", "1.0.0", "Apache-2.0", splitfuse_desc())
