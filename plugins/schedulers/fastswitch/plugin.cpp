// The scheduler/fastswitch plugin.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "bricks/scheduler_entry.hpp"
#include "fastswitch_scheduler.h"

namespace {

using bricks::fastswitch::FastSwitchScheduler;

const char* const kPreemptModes[] = {"auto", "swap", "recompute"};

const bricks_param_spec kParams[] = {
    bricks::sched::max_num_seqs_param(128),
    bricks::param_int("token_budget", 2048, 1, 1 << 20,
                      "Most tokens computed in one step; prompts are chunked into what is left."),
    bricks::param_enum(
        "preempt_mode", "auto", kPreemptModes,
        "How a preempted request keeps its KV: swap to the host tier (needs " BRICKS_CAP_KV_SWAP
        "), recompute, or auto (swap when the kv brick can and the host "
        "tier has room, else recompute)."),
    bricks::param_float("priority_weight", 1.0, 0.0, 1e6,
                        "Weight of the request priority in the effective priority."),
    bricks::param_float(
        "fairness_weight", 1.0, 0.0, 1e6,
        "Weight of the tenant fairness term; 0 ranks by priority and arrival only."),
    bricks::param_float("fairness_quantum", 256.0, 1e-3, 1e15,
                        "Tokens of service above the least-served active tenant that cost one "
                        "priority level (at unit weights)."),
    bricks::param_int("priority_update_steps", 4, 1, 1 << 30,
                      "Effective priorities of live requests are recomputed every this many "
                      "steps; new requests get theirs on arrival."),
    bricks::param_int("min_run_steps", 4, 0, 1 << 30,
                      "Steps a request admitted or swapped in runs before it may be preempted "
                      "again (guards against thrashing)."),
    bricks::param_float("preempt_margin", 1.0, 0.0, 1e6,
                        "Effective-priority lead a waiting or swapped request needs over a "
                        "running one to displace it."),
    bricks::param_int("auto_recompute_tokens", 32, 0, 1 << 30,
                      "In auto mode, a victim with fewer computed tokens is recomputed rather "
                      "than swapped."),
    bricks::param_int("displace_limit", 8, 0, 1 << 30,
                      "A request preempted this many times is no longer displaced for "
                      "higher-ranked waiting ones (block shortage can still preempt it)."),
};

}  // namespace

BRICKS_PLUGIN(
    "bricks_scheduler_fastswitch", "1.0.0", "Apache-2.0",
    bricks::sched::describe_scheduler<FastSwitchScheduler>(
        "fastswitch", "1.0.0",
        "FastSwitch: fairness-aware priorities, fine-grained preemption by swap or recompute.")
        .params(kParams))
