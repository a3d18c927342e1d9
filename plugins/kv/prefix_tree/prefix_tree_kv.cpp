#include "prefix_tree_kv.h"

namespace bricks::kv_prefix_tree {

PrefixTreeKv::PrefixTreeKv(const Host& host, const Params& params)
    : PrefixKvBrick(host, params, "kv/prefix_tree", "prefix tree") {
  pool_ = BlockTree(0, block_size_);
}

}  // namespace bricks::kv_prefix_tree
