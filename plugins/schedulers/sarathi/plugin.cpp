// The scheduler/sarathi plugin.
//
// The vtable comes from sched_entry.h rather than bricks::describe so that an error from the
// wired kv brick reaches the host unchanged (only the host can read or free it).
#include "bricks/bricks.hpp"
#include "sarathi_scheduler.h"
#include "sched_entry.h"

namespace {

using bricks::sarathi::SarathiScheduler;

const char* const kPreemption[] = {"recompute", "swap"};

const bricks_param_spec kParams[] = {
    bricks::param_int("token_budget", 512, 1, 1 << 20,
                      "Most tokens computed in one step, decodes and prefill chunks together."),
    bricks::param_int("max_num_seqs", 128, 1, 65536,
                      "Most requests holding device KV (and so computing) at once."),
    bricks::param_enum("preemption", "recompute", kPreemption,
                       "What a preempted request loses: recompute frees its KV, swap moves it "
                       "to the host tier (needs a kv brick with kv.swap)."),
    bricks::param_float("tbt_slo_ms", 0.0, 0.0, 1e6,
                        "Time-between-tokens target in ms; > 0 lowers the step budget to what "
                        "a fit of observed step times predicts fits it. 0: off."),
    bricks::param_int("min_chunk", 32, 1, 1 << 20,
                      "Smallest prefill chunk scheduled unless it finishes the prompt."),
};

constexpr bricks_scheduler_vtable kVtable = bricks::sched::vtable<SarathiScheduler>();

bricks_brick_desc sarathi_desc() {
  bricks_brick_desc d =
      bricks::describe<SarathiScheduler>(
          "sarathi", "1.0.0",
          "Sarathi-Serve: chunked prefills, stall-free batches under a token budget.")
          .params(kParams);
  d.vtable = &kVtable;
  return d;
}

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_sarathi", "1.0.0", "Apache-2.0", sarathi_desc())
