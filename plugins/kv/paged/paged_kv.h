// kv/paged: vLLM-style paged KV manager with an LRU prefix cache and swap to the host tier.
//
// Blocks of every KV group come from one device pool. The prefix cache covers group 0 only:
// later groups hold pruned token sets that are not prefixes of the request's tokens.
// Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "block_pool.h"
#include "bricks/bricks.hpp"
#include "group_blocks.h"
#include "host_tier.h"
#include "kv_tables.h"

namespace bricks::kv_paged {

class PagedKv final : public KvManager {
 public:
  PagedKv(const Host& host, const Params& params);

  int32_t block_size() const override { return block_size_; }
  void configure(const bricks_kv_geometry& geometry) override;
  int32_t lookup_prefix(const bricks_request_view& r, int32_t group) override;
  bool allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                int32_t num_new) override;
  void commit(const bricks_request_view& r, int32_t group) override;
  void release(uint64_t request_id) override;
  // Tables stay valid until the next build_page_table for the same group.
  void build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                        bricks_page_table& table, int32_t* slots) override;
  void stats(bricks_kv_stats& out) const override;
  bool supports_swap() const override { return true; }
  bool swap_out(uint64_t request_id) override;
  bool swap_in(uint64_t request_id) override;
  int32_t take_copies(const bricks_block_copy** out) override;

 private:
  struct RequestKv : kvc::GroupBlocks {
    int32_t hashed_blocks = 0;  // leading group-0 blocks already in the prefix cache
    uint64_t last_hash = 0;     // chain hash of block hashed_blocks - 1
  };

  void require_configured(const char* verb) const;
  void check_group(int32_t group, const char* verb) const;
  // Walks the prefix cache over the leading full blocks of `r` (at most max_blocks); appends
  // hit blocks to `hits` when non-null. Returns the number of hit blocks.
  int32_t walk_prefix(const bricks_request_view& r, int32_t max_blocks, std::vector<int32_t>* hits,
                      uint64_t* last_hash) const;

  int32_t block_size_;
  bool configured_ = false;
  int32_t num_groups_ = 1;
  BlockPool pool_;
  kvc::HostTier host_tier_;
  std::unordered_map<uint64_t, RequestKv> requests_;
  std::vector<kvc::TableBuffers> tables_;  // [group]
  std::vector<bricks_block_copy> queued_, handed_out_;
  std::vector<int32_t> scratch_;
  bricks_kv_stats stats_{};
};

}  // namespace bricks::kv_paged
