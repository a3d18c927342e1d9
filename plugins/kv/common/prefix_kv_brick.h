// A KvBrick whose device blocks come from one reference-counted pool that keeps the full
// group-0 blocks of earlier requests for later ones (kv/paged's hash-keyed cache,
// kv/prefix_tree's tree), and whose swaps go to a HostTier.
//
// Allocation, commit, release and the swaps are the same for such bricks; a brick supplies
// only its pool, which is also its cache.
//
// `Pool` offers num_blocks(), num_free(), ref_count(b), take(b) (one more reference, out of
// the free blocks), allocate(n, out) (n fresh blocks with one reference each, appended to
// out; the caller has checked num_free() >= n) and release(b); and for the cache:
//   resized(n)          a pool of n free blocks with this one's settings;
//   find_prefix(tokens, max_blocks, hits)
//                       appends to `hits` (when not null) the cached blocks holding the
//                       leading full blocks of `tokens`, at most max_blocks of them, stopping
//                       at the first miss; returns how many;
//   Cursor              how far a request's group 0 has entered the cache; a Cursor{} has
//                       entered nothing (the state after a swap, whose blocks are uncached);
//   cursor_after(hits)  the cursor of a request whose group 0 starts with the cached `hits`;
//   enter_full(cursor, tokens, blocks, full)
//                       makes blocks [0, full) of group 0 (`blocks`, holding `tokens`)
//                       findable, going on from `cursor`; may throw, which commit turns into
//                       a warning.
// Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "group_blocks.h"
#include "host_tier.h"
#include "kv_brick.h"
#include "kv_tables.h"

namespace bricks::kvc {

// A request's record: its blocks, and how far its group 0 has entered the pool's cache.
template <class Cursor>
struct CachedRequest : GroupBlocks {
  Cursor cursor;
};

template <class Pool>
class PrefixKvBrick : public KvBrick<CachedRequest<typename Pool::Cursor>> {
 public:
  using Request = CachedRequest<typename Pool::Cursor>;

  // The cached part of the request's tokens, always leaving the last one to compute.
  int32_t lookup_prefix(const bricks_request_view& r, int32_t group) final;
  bool allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                int32_t num_new) final;
  // Makes the request's newly computed full group-0 blocks findable (Pool::enter_full). A failure
  // there is a warning: the request's own blocks are unaffected.
  void commit(const bricks_request_view& r, int32_t group) final;
  // Frees the request's blocks, device blocks last first.
  void release(uint64_t request_id) final;
  bool swap_out(uint64_t request_id) final;
  bool swap_in(uint64_t request_id) final;

 protected:
  // `cache` ("prefix cache") names the brick's cache in errors and warnings.
  PrefixKvBrick(const Host& host, const Params& params, const char* name, const char* cache)
      : KvBrick<Request>(host, params, name), cache_(cache) {}

  // The device pool. The brick's constructor sets an empty one with the brick's settings;
  // configure_tiers replaces it with one of the configured size (Pool::resized).
  Pool pool_;

 private:
  void configure_tiers(const bricks_kv_geometry& geometry) final;
  void count_tiers(bricks_kv_stats& out) const final;

  const char* cache_;
  HostTier host_tier_;
};

template <class Pool>
void PrefixKvBrick<Pool>::configure_tiers(const bricks_kv_geometry& g) {
  pool_ = pool_.resized(g.num_device_blocks);
  host_tier_ = HostTier(g.num_host_blocks);
}

template <class Pool>
void PrefixKvBrick<Pool>::count_tiers(bricks_kv_stats& out) const {
  out.num_device_blocks = pool_.num_blocks();
  out.free_device_blocks = pool_.num_free();
  out.num_host_blocks = host_tier_.num_blocks();
  out.free_host_blocks = host_tier_.num_free();
}

template <class Pool>
int32_t PrefixKvBrick<Pool>::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!this->configured() || group != 0 || r.tokens == nullptr || r.num_tokens < 2) return 0;
  const int32_t block_size = this->block_size_;
  return pool_.find_prefix(r.tokens, (r.num_tokens - 1) / block_size, nullptr) * block_size;
}

template <class Pool>
bool PrefixKvBrick<Pool>::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                                   int32_t num_new) {
  const auto a = this->begin_allocate(r, group, num_cached, num_new);
  const int32_t block_size = this->block_size_;
  std::vector<int32_t>& hits = this->scratch_;
  hits.clear();
  if (num_cached > 0) {
    const int32_t want = num_cached / block_size;
    if (r.tokens == nullptr || num_cached >= r.num_tokens ||
        pool_.find_prefix(r.tokens, want, &hits) < want) {
      this->throw_not_cached(r.id, num_cached, cache_);
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t have = a.held + static_cast<int32_t>(hits.size());
  const int32_t extra = std::max(0, blocks_for(total, block_size) - have);
  // Hits on free blocks count in num_free() but are taken, so they cannot also be handed out.
  int32_t free_hits = 0;
  for (int32_t b : hits) free_hits += pool_.ref_count(b) == 0 ? 1 : 0;
  if (extra > pool_.num_free() - free_hits) return false;

  Request& req = a.request != nullptr ? *a.request : this->record(r.id);
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  // Hits first: allocating could otherwise evict the very blocks about to be taken.
  for (int32_t b : hits) {
    pool_.take(b);
    blocks.push_back(b);
  }
  pool_.allocate(extra, blocks);
  if (group == 0 && a.first) {
    req.cursor = pool_.cursor_after(hits);
    this->count_prefix_query(r, num_cached);
  }
  return true;
}

template <class Pool>
void PrefixKvBrick<Pool>::commit(const bricks_request_view& r, int32_t group) {
  if (!this->configured() || group != 0 || r.tokens == nullptr) return;
  auto it = this->requests_.find(r.id);
  if (it == this->requests_.end() || it->second.swapped) return;
  Request& req = it->second;
  const std::vector<int32_t>& blocks = req.device[0];
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  const int32_t full = std::min(computed / this->block_size_, static_cast<int32_t>(blocks.size()));
  try {
    pool_.enter_full(req.cursor, r.tokens, blocks, full);
  } catch (const std::exception& e) {
    this->host().warn(this->request_name(r.id) + ": " + cache_ + " not updated: " + e.what());
  }
}

template <class Pool>
void PrefixKvBrick<Pool>::release(uint64_t request_id) {
  auto it = this->requests_.find(request_id);
  if (it == this->requests_.end()) return;
  release_blocks(it->second, PoolTier{pool_}, PoolTier{host_tier_});
  this->requests_.erase(it);
}

template <class Pool>
bool PrefixKvBrick<Pool>::swap_out(uint64_t request_id) {
  Request& req = this->swapping_out(request_id);
  if (!this->move_out(req, PoolTier{pool_}, PoolTier{host_tier_})) return false;
  req.cursor = {};  // the blocks swap_in brings back are not in the cache
  return true;
}

template <class Pool>
bool PrefixKvBrick<Pool>::swap_in(uint64_t request_id) {
  return this->move_in(this->swapping_in(request_id), PoolTier{pool_}, PoolTier{host_tier_});
}

}  // namespace bricks::kvc
