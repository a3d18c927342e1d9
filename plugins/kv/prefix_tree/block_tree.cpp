#include "block_tree.h"

#include <algorithm>

#include "prefix_hash.h"

namespace bricks::kv_prefix_tree {

using kvc::block_hash;
using kvc::kRootHash;

BlockTree::BlockTree(int32_t num_blocks, int32_t block_size)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      ref_(static_cast<size_t>(num_blocks), 0),
      node_(static_cast<size_t>(num_blocks), 0),
      parent_(static_cast<size_t>(num_blocks), kRoot),
      num_children_(static_cast<size_t>(num_blocks), 0),
      key_(static_cast<size_t>(num_blocks), 0),
      last_use_(static_cast<size_t>(num_blocks), 0),
      tokens_(static_cast<size_t>(num_blocks) * static_cast<size_t>(block_size), 0) {
  free_.reserve(static_cast<size_t>(num_blocks));
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

uint64_t BlockTree::key_of(int32_t node) const {
  return node == kRoot ? kRootHash : key_[static_cast<size_t>(node)];
}

int32_t BlockTree::find_child(int32_t parent, const int32_t* tokens) const {
  auto it = by_key_.find(block_hash(key_of(parent), tokens, block_size_));
  if (it == by_key_.end()) return -1;
  const int32_t b = it->second;
  if (parent_[static_cast<size_t>(b)] != parent) return -1;
  const int32_t* held = tokens_.data() + static_cast<size_t>(b) * block_size_;
  return std::equal(held, held + block_size_, tokens) ? b : -1;
}

void BlockTree::make_evictable(int32_t node) {
  evictable_.emplace(last_use_[static_cast<size_t>(node)], node);
}

void BlockTree::evict_one(std::vector<int32_t>& out) {
  const int32_t b = evictable_.begin()->second;
  evictable_.erase(evictable_.begin());
  const size_t i = static_cast<size_t>(b);
  by_key_.erase(key_[i]);
  node_[i] = 0;
  --num_nodes_;
  --num_idle_;
  const int32_t p = parent_[i];
  parent_[i] = kRoot;
  if (p != kRoot) {
    const size_t pi = static_cast<size_t>(p);
    // An idle parent whose last branch goes becomes a leaf, evictable in its own LRU turn.
    if (--num_children_[pi] == 0 && ref_[pi] == 0) make_evictable(p);
  }
  ref_[i] = 1;
  out.push_back(b);
}

void BlockTree::allocate(int32_t n, std::vector<int32_t>& out) {
  for (int32_t k = 0; k < n; ++k) {
    if (!free_.empty()) {
      const int32_t b = free_.back();
      free_.pop_back();
      ref_[static_cast<size_t>(b)] = 1;
      out.push_back(b);
    } else {
      evict_one(out);
    }
  }
}

void BlockTree::take(int32_t block) {
  const size_t i = static_cast<size_t>(block);
  if (ref_[i] == 0) {
    --num_idle_;
    if (num_children_[i] == 0) evictable_.erase({last_use_[i], block});
  }
  ++ref_[i];
  last_use_[i] = ++tick_;
}

void BlockTree::release(int32_t block) {
  const size_t i = static_cast<size_t>(block);
  if (ref_[i] <= 0 || --ref_[i] > 0) return;
  if (!node_[i]) {
    free_.push_back(block);
    return;
  }
  ++num_idle_;
  last_use_[i] = ++tick_;
  if (num_children_[i] == 0) make_evictable(block);
}

bool BlockTree::insert(int32_t parent, int32_t block, const int32_t* tokens) {
  const size_t i = static_cast<size_t>(block);
  const uint64_t key = block_hash(key_of(parent), tokens, block_size_);
  if (!by_key_.emplace(key, block).second) return false;
  node_[i] = 1;
  ++num_nodes_;
  parent_[i] = parent;
  key_[i] = key;
  last_use_[i] = ++tick_;
  std::copy(tokens, tokens + block_size_, tokens_.data() + i * static_cast<size_t>(block_size_));
  if (parent != kRoot) {
    const size_t pi = static_cast<size_t>(parent);
    // Callers hold the parent, so it is not evictable; kept exact for any caller.
    if (num_children_[pi]++ == 0 && ref_[pi] == 0) evictable_.erase({last_use_[pi], parent});
  }
  return true;
}

int32_t BlockTree::find_prefix(const int32_t* tokens, int32_t max_blocks,
                               std::vector<int32_t>* hits) const {
  int32_t node = kRoot;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    node = find_child(node, tokens + static_cast<size_t>(found) * block_size_);
    if (node < 0) break;
    if (hits != nullptr) hits->push_back(node);
  }
  return found;
}

void BlockTree::enter_full(Cursor& cursor, const int32_t* tokens,
                           const std::vector<int32_t>& blocks, int32_t full) {
  while (cursor.tree_blocks < full) {
    const size_t i = static_cast<size_t>(cursor.tree_blocks);
    const int32_t parent = i == 0 ? kRoot : blocks[i - 1];
    if (!insert(parent, blocks[i], tokens + i * static_cast<size_t>(block_size_))) break;
    ++cursor.tree_blocks;
  }
}

}  // namespace bricks::kv_prefix_tree
