#include "paged_kv.h"

#include <algorithm>
#include <string>

namespace bricks::kv_paged {

using kvc::block_hash;
using kvc::kRootHash;

PagedKv::PagedKv(const Host& host, const Params& params) : KvBrick(host, params, "kv/paged") {
  pool_ = BlockPool(0, block_size_, params.get_bool("enable_prefix_cache"));
}

void PagedKv::configure_tiers(const bricks_kv_geometry& g) {
  pool_ = BlockPool(g.num_device_blocks, block_size_, pool_.cache_enabled());
  host_tier_ = kvc::HostTier(g.num_host_blocks);
}

void PagedKv::count_tiers(bricks_kv_stats& out) const {
  out.num_device_blocks = pool_.num_blocks();
  out.free_device_blocks = pool_.num_free();
  out.num_host_blocks = host_tier_.num_blocks();
  out.free_host_blocks = host_tier_.num_free();
}

int32_t PagedKv::walk_prefix(const bricks_request_view& r, int32_t max_blocks,
                             std::vector<int32_t>* hits, uint64_t* last_hash) const {
  uint64_t parent = kRootHash;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    const int32_t* tokens = r.tokens + static_cast<size_t>(found) * block_size_;
    const uint64_t h = block_hash(parent, tokens, block_size_);
    const int32_t block = pool_.find_cached(h, parent, tokens);
    if (block < 0) break;
    if (hits != nullptr) hits->push_back(block);
    parent = h;
  }
  if (last_hash != nullptr) *last_hash = parent;
  return found;
}

int32_t PagedKv::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || !pool_.cache_enabled() || r.tokens == nullptr ||
      r.num_tokens < 2) {
    return 0;
  }
  return walk_prefix(r, (r.num_tokens - 1) / block_size_, nullptr, nullptr) * block_size_;
}

bool PagedKv::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                       int32_t num_new) {
  const Allocation a = begin_allocate(r, group, num_cached, num_new);
  scratch_.clear();
  uint64_t last_hash = kRootHash;
  if (num_cached > 0) {
    const int32_t want = num_cached / block_size_;
    if (r.tokens == nullptr || num_cached >= r.num_tokens ||
        walk_prefix(r, want, &scratch_, &last_hash) < want) {
      throw_not_cached(r.id, num_cached, "prefix cache");
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t have = a.held + static_cast<int32_t>(scratch_.size());
  const int32_t extra = std::max(0, kvc::blocks_for(total, block_size_) - have);
  int32_t hits_on_free_list = 0;
  for (int32_t b : scratch_) hits_on_free_list += pool_.ref_count(b) == 0 ? 1 : 0;
  if (extra > pool_.num_free() - hits_on_free_list) return false;

  PagedRequest& req = a.request != nullptr ? *a.request : record(r.id);
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  for (int32_t b : scratch_) {
    pool_.take(b);
    blocks.push_back(b);
  }
  pool_.allocate(extra, blocks);
  if (group == 0 && a.first) {
    req.hashed_blocks = static_cast<int32_t>(scratch_.size());
    req.last_hash = last_hash;
    count_prefix_query(r, num_cached);
  }
  return true;
}

void PagedKv::commit(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || !pool_.cache_enabled() || r.tokens == nullptr) return;
  auto it = requests_.find(r.id);
  if (it == requests_.end() || it->second.swapped) return;
  PagedRequest& req = it->second;
  const std::vector<int32_t>& blocks = req.device[0];
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  const int32_t full = std::min(computed / block_size_, static_cast<int32_t>(blocks.size()));
  try {
    for (int32_t i = req.hashed_blocks; i < full; ++i) {
      const int32_t* tokens = r.tokens + static_cast<size_t>(i) * block_size_;
      const uint64_t h = block_hash(req.last_hash, tokens, block_size_);
      pool_.register_full(blocks[static_cast<size_t>(i)], h, req.last_hash, tokens);
      req.last_hash = h;
      req.hashed_blocks = i + 1;
    }
  } catch (const std::exception& e) {
    host().warn(request_name(r.id) + ": prefix cache not updated: " + e.what());
  }
}

void PagedKv::release(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  kvc::release_blocks(it->second, pool_, host_tier_);
  requests_.erase(it);
}

bool PagedKv::swap_out(uint64_t request_id) {
  return move_out(swapping_out(request_id), pool_, host_tier_);
}

bool PagedKv::swap_in(uint64_t request_id) {
  PagedRequest& req = swapping_in(request_id);
  if (!move_in(req, pool_, host_tier_)) return false;
  // The new device blocks hold no cache entries yet; the next commit registers them again.
  req.hashed_blocks = 0;
  req.last_hash = kRootHash;
  return true;
}

}  // namespace bricks::kv_paged
