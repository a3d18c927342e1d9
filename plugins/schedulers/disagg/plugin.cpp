// The scheduler/disagg plugin.
//
// Besides the role's own params it declares the placement of a disaggregated cluster:
// core/runtime/cluster_runtime.h reads them from the manifest and builds that many prefill and
// decode instances, each with its own copy of this brick in the matching role. The brick
// itself does not use them.
//
// The vtable comes from bricks/scheduler_entry.hpp rather than bricks::describe so that an
// error from the wired kv brick reaches the host unchanged (only the host can read or free
// it).
#include "bricks/bricks.hpp"
#include "bricks/scheduler_entry.hpp"
#include "disagg_scheduler.h"

namespace {

using bricks::disagg::DisaggScheduler;

const char* const kRole[] = {"prefill", "decode"};
const char* const kLink[] = {"nvlink", "pcie4", "infiniband", "ethernet"};
const char* const kTransfer[] = {"after_prefill", "layerwise"};

const bricks_param_spec kParams[] = {
    bricks::param_enum("role", "prefill", kRole,
                       "Which phase this instance serves: prefill (prefill-only batches; the "
                       "request leaves with its first token) or decode (decode-maximal "
                       "batches of requests whose KV was transferred)."),
    bricks::sched::max_num_seqs_param(256),
    bricks::param_int("prefill_token_budget", 512, 1, 1 << 20,
                      "role prefill: most prompt tokens computed in one step; longer prompts "
                      "are chunked."),
    bricks::param_int("decode_token_budget", 16384, 1, 1 << 20,
                      "role decode: most tokens in one step, counting an admitted request's "
                      "transferred prompt (allocated, not computed)."),
    bricks::param_int("min_chunk", 32, 1, 1 << 20,
                      "role prefill: smallest prefill chunk scheduled unless it ends the prompt."),
    bricks::sched::preemption_param(),
    bricks::param_int("prefill_instances", 1, 1, 256,
                      "Cluster: prefill instances (each runs prefill_tp GPUs)."),
    bricks::param_int("decode_instances", 1, 1, 256,
                      "Cluster: decode instances (each runs decode_tp GPUs)."),
    bricks::param_int("prefill_tp", 1, 1, 64,
                      "Cluster: tensor-parallel GPUs of one prefill instance."),
    bricks::param_int("decode_tp", 1, 1, 64,
                      "Cluster: tensor-parallel GPUs of one decode instance."),
    bricks::param_enum("link", "nvlink", kLink,
                       "Cluster: the link KV crosses from prefill to decode instance: nvlink "
                       "(300 GB/s, 5 us), pcie4 (25 GB/s, 10 us), infiniband (200 Gb/s, "
                       "5 us), ethernet (25 Gb/s, 50 us)."),
    bricks::param_float("link_gbps", 0.0, 0.0, 1e6,
                        "Cluster: link bandwidth in Gbit/s; 0 takes the link preset's."),
    bricks::param_float("link_latency_us", -1.0, -1.0, 1e7,
                        "Cluster: link latency per transfer in microseconds; -1 takes the "
                        "link preset's."),
    bricks::param_enum("kv_transfer", "after_prefill", kTransfer,
                       "Cluster: after_prefill sends a request's KV once its prefill ends; "
                       "layerwise streams each layer as it is computed, so only the last "
                       "layer's share (or what the prefill did not cover) is left to wait."),
};

}  // namespace

BRICKS_PLUGIN("bricks_scheduler_disagg", "1.0.0", "Apache-2.0",
              bricks::sched::describe_scheduler<DisaggScheduler>(
                  "disagg", "1.0.0",
                  "DistServe: prefill and decode on separate instances, KV moved between them.")
                  .params(kParams))
