// The device block pool of kv/paged: reference counts, an O(1) LRU free list and the
// prefix cache (chain hash -> block).
//
// Every block is either referenced (ref_count > 0) or on the free list. Free blocks may
// still hold cached content: they stay findable by hash until the list hands them out
// again, in least-recently-freed order. Not thread-safe: one host thread at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "hash_index.h"
#include "prefix_hash.h"

namespace bricks::kv_paged {

class BlockPool {
 public:
  // How far a request's group 0 is in the prefix cache.
  struct Cursor {
    int32_t hashed_blocks = 0;            // leading blocks already in the cache
    uint64_t last_hash = kvc::kRootHash;  // chain hash of block hashed_blocks - 1
  };

  BlockPool() = default;
  BlockPool(int32_t num_blocks, int32_t block_size, bool enable_cache);
  // A pool of `num_blocks` free blocks, block size and cache setting as this one's.
  BlockPool resized(int32_t num_blocks) const {
    return BlockPool(num_blocks, block_size_, enable_cache_);
  }

  int32_t num_blocks() const { return num_blocks_; }
  int32_t num_free() const { return num_free_; }
  int32_t ref_count(int32_t block) const { return ref_[block]; }
  bool cache_enabled() const { return enable_cache_; }
  // The chain hash a cached block was registered under.
  uint64_t hash_of(int32_t block) const { return hash_[block]; }

  // Appends `n` blocks from the head of the free list to `out`, each with ref_count 1.
  // Cached content of a block handed out is dropped from the prefix cache. The caller has
  // checked num_free() >= n.
  void allocate(int32_t n, std::vector<int32_t>& out);

  // The cached block whose content is `tokens[0, block_size)` under parent hash `parent`
  // (its own hash being `hash`), or -1. Token ids and parent are compared, not only the hash.
  int32_t find_cached(uint64_t hash, uint64_t parent, const int32_t* tokens) const;

  // The cached blocks of the leading full blocks of `tokens`, chained from kRootHash, at
  // most max_blocks, stopping at the first miss: appended to `hits` when not null; how many.
  // None while the cache is off.
  int32_t find_prefix(const int32_t* tokens, int32_t max_blocks, std::vector<int32_t>* hits) const;

  // The cursor of a request whose first blocks are the cached `hits`.
  Cursor cursor_after(const std::vector<int32_t>& hits) const {
    return hits.empty() ? Cursor{}
                        : Cursor{static_cast<int32_t>(hits.size()), hash_of(hits.back())};
  }

  // Registers blocks [cursor.hashed_blocks, full) of `blocks` (group 0, holding `tokens`)
  // and moves the cursor past them. No-op while the cache is off.
  void enter_full(Cursor& cursor, const int32_t* tokens, const std::vector<int32_t>& blocks,
                  int32_t full);

  // One more reference to `block`; a free block leaves the free list in O(1).
  void take(int32_t block);

  // One reference less. At zero the block joins the free list: at the tail when it holds
  // cached content (evicted last, in LRU order), at the head when it holds none, so empty
  // blocks are reused before any cached prefix is evicted.
  void release(int32_t block);

  // Records that `block` holds the full block `tokens` with chain hash `hash`. No-op when the
  // cache is off, the block is already cached, or another block already holds that hash
  // (the duplicate then stays uncached and is reused as a plain block when freed).
  void register_full(int32_t block, uint64_t hash, uint64_t parent, const int32_t* tokens);

 private:
  void unlink(int32_t block);
  void link_before(int32_t block, int32_t next);
  void uncache(int32_t block);

  int32_t num_blocks_ = 0;
  int32_t block_size_ = 0;
  bool enable_cache_ = false;
  int32_t num_free_ = 0;
  // Circular doubly linked free list; index num_blocks_ is the sentinel.
  std::vector<int32_t> prev_, next_;
  std::vector<int32_t> ref_;
  std::vector<uint8_t> cached_;
  std::vector<uint64_t> hash_, parent_;
  std::vector<int32_t> tokens_;  // [num_blocks][block_size], valid where cached_
  kvc::HashIndex by_hash_;       // chain hash -> cached block; sized once, for every block
};

}  // namespace bricks::kv_paged
