#include "block_pool.h"

#include <algorithm>

namespace bricks::kv_paged {

BlockPool::BlockPool(int32_t num_blocks, int32_t block_size, bool enable_cache)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      enable_cache_(enable_cache),
      num_free_(num_blocks),
      prev_(static_cast<size_t>(num_blocks) + 1),
      next_(static_cast<size_t>(num_blocks) + 1),
      ref_(static_cast<size_t>(num_blocks), 0),
      cached_(static_cast<size_t>(num_blocks), 0),
      hash_(static_cast<size_t>(num_blocks), 0),
      parent_(static_cast<size_t>(num_blocks), 0) {
  if (enable_cache_) {
    tokens_.assign(static_cast<size_t>(num_blocks) * block_size, 0);
    by_hash_ = kvc::HashIndex(num_blocks);
  }
  // Initially blocks 0..n-1 in order, so a fresh pool hands out contiguous ids.
  const int32_t sentinel = num_blocks_;
  for (int32_t b = 0; b <= num_blocks_; ++b) {
    next_[b] = b == num_blocks_ ? 0 : b + 1;
    prev_[b] = b == 0 ? sentinel : b - 1;
  }
  if (num_blocks_ == 0) next_[sentinel] = prev_[sentinel] = sentinel;
}

void BlockPool::unlink(int32_t block) {
  next_[prev_[block]] = next_[block];
  prev_[next_[block]] = prev_[block];
  --num_free_;
}

void BlockPool::link_before(int32_t block, int32_t next) {
  prev_[block] = prev_[next];
  next_[block] = next;
  next_[prev_[next]] = block;
  prev_[next] = block;
  ++num_free_;
}

void BlockPool::uncache(int32_t block) {
  if (!cached_[block]) return;
  by_hash_.erase(hash_[block], block);
  cached_[block] = 0;
}

void BlockPool::allocate(int32_t n, std::vector<int32_t>& out) {
  const int32_t sentinel = num_blocks_;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t block = next_[sentinel];
    unlink(block);
    uncache(block);
    ref_[block] = 1;
    out.push_back(block);
  }
}

int32_t BlockPool::find_cached(uint64_t hash, uint64_t parent, const int32_t* tokens) const {
  if (!enable_cache_) return -1;
  const int32_t block = by_hash_.find(hash);
  if (block < 0 || parent_[block] != parent) return -1;
  const int32_t* held = tokens_.data() + static_cast<size_t>(block) * block_size_;
  return std::equal(held, held + block_size_, tokens) ? block : -1;
}

void BlockPool::take(int32_t block) {
  if (ref_[block] == 0) unlink(block);
  ++ref_[block];
}

void BlockPool::release(int32_t block) {
  if (--ref_[block] > 0) return;
  link_before(block, cached_[block] ? num_blocks_ : next_[num_blocks_]);
}

void BlockPool::register_full(int32_t block, uint64_t hash, uint64_t parent,
                              const int32_t* tokens) {
  if (!enable_cache_ || cached_[block]) return;
  if (!by_hash_.insert(hash, block)) return;
  cached_[block] = 1;
  hash_[block] = hash;
  parent_[block] = parent;
  std::copy(tokens, tokens + block_size_,
            tokens_.data() + static_cast<size_t>(block) * block_size_);
}

int32_t BlockPool::find_prefix(const int32_t* tokens, int32_t max_blocks,
                               std::vector<int32_t>* hits) const {
  if (!enable_cache_) return 0;
  uint64_t parent = kvc::kRootHash;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    const int32_t* block_tokens = tokens + static_cast<size_t>(found) * block_size_;
    const uint64_t h = kvc::block_hash(parent, block_tokens, block_size_);
    const int32_t block = find_cached(h, parent, block_tokens);
    if (block < 0) break;
    if (hits != nullptr) hits->push_back(block);
    parent = h;
  }
  return found;
}

void BlockPool::enter_full(Cursor& cursor, const int32_t* tokens,
                           const std::vector<int32_t>& blocks, int32_t full) {
  if (!enable_cache_) return;
  for (int32_t i = cursor.hashed_blocks; i < full; ++i) {
    const int32_t* block_tokens = tokens + static_cast<size_t>(i) * block_size_;
    const uint64_t h = kvc::block_hash(cursor.last_hash, block_tokens, block_size_);
    register_full(blocks[static_cast<size_t>(i)], h, cursor.last_hash, block_tokens);
    cursor.last_hash = h;
    cursor.hashed_blocks = i + 1;
  }
}

}  // namespace bricks::kv_paged
