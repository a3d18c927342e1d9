// The kv/paged plugin: one brick, the paged KV manager.
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "paged_kv.h"

namespace {

const bricks_param_spec kParams[] = {
    bricks::param_int("block_size", 16, 1, 256, "Tokens per KV block; a power of two."),
    bricks::param_bool("enable_prefix_cache", true,
                       "Keep full blocks findable by a hash of their prefix and reuse them."),
};

const char* const kProvides[] = {BRICKS_CAP_KV_PAGED, BRICKS_CAP_KV_PREFIX_CACHE,
                                 BRICKS_CAP_KV_SWAP};

}  // namespace

BRICKS_PLUGIN("bricks_kv_paged", "1.0.0", "Apache-2.0",
              bricks::describe<bricks::kv_paged::PagedKv>(
                  "paged", "1.0.0",
                  "vLLM-style paged KV blocks with an LRU prefix cache and host-tier swap.")
                  .params(kParams)
                  .provides(kProvides))
