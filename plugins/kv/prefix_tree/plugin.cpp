// The kv/prefix_tree plugin: one brick, the prefix-tree KV manager.
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "prefix_tree_kv.h"

namespace {

const bricks_param_spec kParams[] = {
    bricks::param_int("block_size", 16, 1, 256,
                      "Tokens per KV block and per prefix-tree edge; a power of two."),
};

const char* const kProvides[] = {BRICKS_CAP_KV_PAGED, BRICKS_CAP_KV_PREFIX_CACHE,
                                 BRICKS_CAP_KV_PREFIX_TREE, BRICKS_CAP_KV_SWAP};

}  // namespace

BRICKS_PLUGIN("bricks_kv_prefix_tree", "1.0.0", "Apache-2.0",
              bricks::describe<bricks::kv_prefix_tree::PrefixTreeKv>(
                  "prefix_tree", "1.0.0",
                  "Paged KV blocks with a global prefix tree: shared blocks refcounted, "
                  "unreferenced leaves evicted LRU, host-tier swap.")
                  .params(kParams)
                  .provides(kProvides))
