#include "prefix_tree_kv.h"

namespace bricks::kv_prefix_tree {

PrefixTreeKv::PrefixTreeKv(const Host& host, const Params& params)
    : PrefixKvBrick(host, params, "kv/prefix_tree", "prefix tree") {}

BlockTree PrefixTreeKv::new_pool(int32_t num_blocks) const {
  return BlockTree(num_blocks, block_size_);
}

int32_t PrefixTreeKv::find_prefix(const bricks_request_view& r, int32_t max_blocks,
                                  std::vector<int32_t>* hits) const {
  int32_t node = BlockTree::kRoot;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    node = pool_.find_child(node, r.tokens + static_cast<size_t>(found) * block_size_);
    if (node < 0) break;
    if (hits != nullptr) hits->push_back(node);
  }
  return found;
}

void PrefixTreeKv::enter_prefix(TreeRequest& req, const std::vector<int32_t>& hits) {
  req.tree_blocks = static_cast<int32_t>(hits.size());
}

void PrefixTreeKv::enter_full(TreeRequest& req, const bricks_request_view& r,
                              const std::vector<int32_t>& blocks, int32_t full) {
  // Stops at the first block whose content another node already caches; a later commit
  // tries again, so the request's blocks join the tree once that node is evicted.
  while (req.tree_blocks < full) {
    const size_t i = static_cast<size_t>(req.tree_blocks);
    const int32_t parent = i == 0 ? BlockTree::kRoot : blocks[i - 1];
    if (!pool_.insert(parent, blocks[i], r.tokens + i * static_cast<size_t>(block_size_))) break;
    ++req.tree_blocks;
  }
}

void PrefixTreeKv::forget_cached(TreeRequest& req) { req.tree_blocks = 0; }

}  // namespace bricks::kv_prefix_tree
