// The scheduler/sarathi plugin.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "bricks/bricks.hpp"
#include "bricks/scheduler_entry.hpp"
#include "sarathi_scheduler.h"

namespace {

using bricks::sarathi::SarathiScheduler;

const bricks_param_spec kParams[] = {
    bricks::param_int("token_budget", 512, 1, 1 << 20,
                      "Most tokens computed in one step, decodes and prefill chunks together."),
    bricks::sched::max_num_seqs_param(128),
    bricks::sched::preemption_param(),
    bricks::param_float("tbt_slo_ms", 0.0, 0.0, 1e6,
                        "Time-between-tokens target in ms; > 0 lowers the step budget to what "
                        "a fit of observed step times predicts fits it. 0: off."),
    bricks::param_int("min_chunk", 32, 1, 1 << 20,
                      "Smallest prefill chunk scheduled unless it finishes the prompt."),
};

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_sarathi", "1.0.0", "Apache-2.0",
              bricks::sched::describe_scheduler<SarathiScheduler>(
                  "sarathi", "1.0.0",
                  "Sarathi-Serve: chunked prefills, stall-free batches under a token budget.")
                  .params(kParams))
