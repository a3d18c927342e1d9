// The kv/block_group plugin: one brick, FastSwitch's block-group KV manager.
#include "block_group_kv.h"
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"

namespace {

const bricks_param_spec kParams[] = {
    bricks::param_int("block_size", 16, 1, 256, "Tokens per KV block; a power of two."),
    bricks::param_int("group_blocks", 8, 1, 4096,
                      "Blocks per block group: a request starts in a free aligned run of this "
                      "many blocks and grows in place, so swaps copy runs, not single blocks."),
    bricks::param_bool("keep_conversations", true,
                       "Keep a released conversation turn's full blocks on the host tier and "
                       "give the conversation's next turn a prefix hit on them."),
};

const char* const kProvides[] = {BRICKS_CAP_KV_PAGED, BRICKS_CAP_KV_SWAP, BRICKS_CAP_KV_BLOCK_GROUP,
                                 BRICKS_CAP_KV_CONVERSATION_REUSE};

}  // namespace

BRICKS_PLUGIN("bricks_kv_block_group", "1.0.0", "Apache-2.0",
              bricks::describe<bricks::kv_block_group::BlockGroupKv>(
                  "block_group", "1.0.0",
                  "FastSwitch KV: contiguous block groups for large swaps, multi-turn reuse "
                  "from the host tier.")
                  .params(kParams)
                  .provides(kProvides))
