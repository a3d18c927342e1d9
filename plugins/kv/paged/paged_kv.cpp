#include "paged_kv.h"

namespace bricks::kv_paged {

using kvc::block_hash;
using kvc::kRootHash;

PagedKv::PagedKv(const Host& host, const Params& params)
    : PrefixKvBrick(host, params, "kv/paged", "prefix cache") {
  pool_ = BlockPool(0, block_size_, params.get_bool("enable_prefix_cache"));
}

BlockPool PagedKv::new_pool(int32_t num_blocks) const {
  return BlockPool(num_blocks, block_size_, pool_.cache_enabled());
}

int32_t PagedKv::find_prefix(const bricks_request_view& r, int32_t max_blocks,
                             std::vector<int32_t>* hits) const {
  if (!pool_.cache_enabled()) return 0;
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
  return found;
}

void PagedKv::enter_prefix(PagedRequest& req, const std::vector<int32_t>& hits) {
  req.hashed_blocks = static_cast<int32_t>(hits.size());
  req.last_hash = hits.empty() ? kRootHash : pool_.hash_of(hits.back());
}

void PagedKv::enter_full(PagedRequest& req, const bricks_request_view& r,
                         const std::vector<int32_t>& blocks, int32_t full) {
  if (!pool_.cache_enabled()) return;
  for (int32_t i = req.hashed_blocks; i < full; ++i) {
    const int32_t* tokens = r.tokens + static_cast<size_t>(i) * block_size_;
    const uint64_t h = block_hash(req.last_hash, tokens, block_size_);
    pool_.register_full(blocks[static_cast<size_t>(i)], h, req.last_hash, tokens);
    req.last_hash = h;
    req.hashed_blocks = i + 1;
  }
}

void PagedKv::forget_cached(PagedRequest& req) {
  // The device blocks of swap_in hold no cache entries; the next commit registers them again.
  req.hashed_blocks = 0;
  req.last_hash = kRootHash;
}

}  // namespace bricks::kv_paged
