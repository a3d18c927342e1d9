#include "prefix_tree_kv.h"

#include <algorithm>
#include <string>

namespace bricks::kv_prefix_tree {

PrefixTreeKv::PrefixTreeKv(const Host& host, const Params& params)
    : KvBrick(host, params, "kv/prefix_tree") {}

void PrefixTreeKv::configure_tiers(const bricks_kv_geometry& g) {
  tree_ = BlockTree(g.num_device_blocks, block_size_);
  host_tier_ = kvc::HostTier(g.num_host_blocks);
}

void PrefixTreeKv::count_tiers(bricks_kv_stats& out) const {
  out.num_device_blocks = tree_.num_blocks();
  out.free_device_blocks = tree_.num_free();
  out.num_host_blocks = host_tier_.num_blocks();
  out.free_host_blocks = host_tier_.num_free();
}

int32_t PrefixTreeKv::walk(const bricks_request_view& r, int32_t max_blocks,
                           std::vector<int32_t>* hits) const {
  int32_t node = BlockTree::kRoot;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    node = tree_.find_child(node, r.tokens + static_cast<size_t>(found) * block_size_);
    if (node < 0) break;
    if (hits != nullptr) hits->push_back(node);
  }
  return found;
}

int32_t PrefixTreeKv::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || r.tokens == nullptr || r.num_tokens < 2) return 0;
  return walk(r, (r.num_tokens - 1) / block_size_, nullptr) * block_size_;
}

bool PrefixTreeKv::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                            int32_t num_new) {
  const Allocation a = begin_allocate(r, group, num_cached, num_new);
  scratch_.clear();
  if (num_cached > 0) {
    const int32_t want = num_cached / block_size_;
    if (r.tokens == nullptr || num_cached >= r.num_tokens || walk(r, want, &scratch_) < want) {
      throw_not_cached(r.id, num_cached, "prefix tree");
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t have = a.held + static_cast<int32_t>(scratch_.size());
  const int32_t extra = std::max(0, kvc::blocks_for(total, block_size_) - have);
  int32_t idle_hits = 0;
  for (int32_t b : scratch_) idle_hits += tree_.ref_count(b) == 0 ? 1 : 0;
  if (extra > tree_.num_free() - idle_hits) return false;

  TreeRequest& req = a.request != nullptr ? *a.request : record(r.id);
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  // Hits first: allocating could otherwise evict the very nodes about to be taken.
  for (int32_t b : scratch_) {
    tree_.take(b);
    blocks.push_back(b);
  }
  tree_.allocate(extra, blocks);
  if (group == 0 && a.first) {
    req.tree_blocks = static_cast<int32_t>(scratch_.size());
    count_prefix_query(r, num_cached);
  }
  return true;
}

void PrefixTreeKv::commit(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || r.tokens == nullptr) return;
  auto it = requests_.find(r.id);
  if (it == requests_.end() || it->second.swapped) return;
  TreeRequest& req = it->second;
  const std::vector<int32_t>& blocks = req.device[0];
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  const int32_t full = std::min(computed / block_size_, static_cast<int32_t>(blocks.size()));
  try {
    // Stops at the first block whose content another node already caches; a later commit
    // tries again, so the request's blocks join the tree once that node is evicted.
    while (req.tree_blocks < full) {
      const size_t i = static_cast<size_t>(req.tree_blocks);
      const int32_t parent = i == 0 ? BlockTree::kRoot : blocks[i - 1];
      if (!tree_.insert(parent, blocks[i], r.tokens + i * static_cast<size_t>(block_size_))) break;
      ++req.tree_blocks;
    }
  } catch (const std::exception& e) {
    host().warn(request_name(r.id) + ": prefix tree not updated: " + e.what());
  }
}

void PrefixTreeKv::release(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  kvc::release_blocks(it->second, tree_, host_tier_);
  requests_.erase(it);
}

bool PrefixTreeKv::swap_out(uint64_t request_id) {
  TreeRequest& req = swapping_out(request_id);
  if (!move_out(req, tree_, host_tier_)) return false;
  req.tree_blocks = 0;
  return true;
}

bool PrefixTreeKv::swap_in(uint64_t request_id) {
  return move_in(swapping_in(request_id), tree_, host_tier_);
}

}  // namespace bricks::kv_prefix_tree
