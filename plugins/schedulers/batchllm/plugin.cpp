// The scheduler/batchllm plugin.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "batchllm_scheduler.h"
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "bricks/scheduler_entry.hpp"

namespace {

using bricks::batchllm::BatchLlmScheduler;

const char* const kPreemption[] = {"auto", "recompute", "swap"};

const bricks_param_spec kParams[] = {
    bricks::param_int("token_budget", 2048, 1, 1 << 20,
                      "Most tokens computed in one step, decodes and prefill chunks together."),
    bricks::param_int("max_num_seqs", 256, 1, 65536,
                      "Most requests holding device KV at once; memory decides below it."),
    bricks::param_float("reserve_ratio", 0.5, 0.0, 1.0,
                        "Share of each request's outputs still to come that admission reserves "
                        "KV for: 0 admits on current tokens, 1 on the whole output."),
    bricks::param_int("min_chunk", 32, 1, 1 << 20,
                      "Smallest prefill chunk scheduled unless it finishes the prompt."),
    bricks::param_enum("preemption", "auto", kPreemption,
                       "What a preempted request loses: recompute frees its KV, swap moves it "
                       "to the host tier, auto swaps when the kv brick has " BRICKS_CAP_KV_SWAP
                       "."),
    bricks::param_bool("pin_prefixes", true,
                       "Hold the next group's cached shared prefix so that no eviction loses it "
                       "before its requests are admitted."),
    bricks::param_int("min_group_size", 2, 2, 1 << 20,
                      "Requests that must share a prefix before they form a group."),
    bricks::param_int("min_prefix_blocks", 1, 1, 1 << 20,
                      "KV blocks a shared prefix must span before it forms a group."),
};

}  // namespace

BRICKS_PLUGIN(
    "bricks_scheduler_batchllm", "1.0.0", "Apache-2.0",
    bricks::sched::describe_scheduler<BatchLlmScheduler>(
        "batchllm", "1.0.0",
        "BatchLLM: global prefix groups, decode-ratio-first order, memory-centric batches.")
        .params(kParams))
