// kv/paged: vLLM-style paged KV manager with an LRU prefix cache and swap to the host tier.
//
// Blocks of every KV group come from one device pool. The prefix cache covers group 0 only:
// later groups hold pruned token sets that are not prefixes of the request's tokens.
// Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "block_pool.h"
#include "bricks/bricks.hpp"
#include "prefix_hash.h"
#include "prefix_kv_brick.h"

namespace bricks::kv_paged {

// A request's record: its blocks, and how far group 0 has been entered in the prefix cache.
struct PagedRequest : kvc::GroupBlocks {
  int32_t hashed_blocks = 0;            // leading group-0 blocks already in the prefix cache
  uint64_t last_hash = kvc::kRootHash;  // chain hash of block hashed_blocks - 1
};

class PagedKv final : public kvc::PrefixKvBrick<PagedRequest, BlockPool> {
 public:
  PagedKv(const Host& host, const Params& params);

 private:
  BlockPool new_pool(int32_t num_blocks) const override;
  int32_t find_prefix(const bricks_request_view& r, int32_t max_blocks,
                      std::vector<int32_t>* hits) const override;
  void enter_prefix(PagedRequest& req, const std::vector<int32_t>& hits) override;
  void enter_full(PagedRequest& req, const bricks_request_view& r,
                  const std::vector<int32_t>& blocks, int32_t full) override;
  void forget_cached(PagedRequest& req) override;
};

}  // namespace bricks::kv_paged
