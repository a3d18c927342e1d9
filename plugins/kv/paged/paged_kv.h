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
#include "host_tier.h"
#include "kv_brick.h"
#include "prefix_hash.h"

namespace bricks::kv_paged {

// A request's record: its blocks, and how far group 0 has been entered in the prefix cache.
struct PagedRequest : kvc::GroupBlocks {
  int32_t hashed_blocks = 0;            // leading group-0 blocks already in the prefix cache
  uint64_t last_hash = kvc::kRootHash;  // chain hash of block hashed_blocks - 1
};

class PagedKv final : public kvc::KvBrick<PagedRequest> {
 public:
  PagedKv(const Host& host, const Params& params);

  int32_t lookup_prefix(const bricks_request_view& r, int32_t group) override;
  bool allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                int32_t num_new) override;
  void commit(const bricks_request_view& r, int32_t group) override;
  void release(uint64_t request_id) override;
  bool swap_out(uint64_t request_id) override;
  bool swap_in(uint64_t request_id) override;

 private:
  void configure_tiers(const bricks_kv_geometry& geometry) override;
  void count_tiers(bricks_kv_stats& out) const override;
  // Walks the prefix cache over the leading full blocks of `r` (at most max_blocks); appends
  // hit blocks to `hits` when non-null. Returns the number of hit blocks.
  int32_t walk_prefix(const bricks_request_view& r, int32_t max_blocks, std::vector<int32_t>* hits,
                      uint64_t* last_hash) const;

  BlockPool pool_;
  kvc::HostTier host_tier_;
};

}  // namespace bricks::kv_paged
