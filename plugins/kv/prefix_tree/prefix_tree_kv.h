// kv/prefix_tree: paged KV blocks whose prefix cache is a global prefix tree (BatchLLM,
// RadixAttention), with swap to the host tier.
//
// Group 0's full computed blocks become tree nodes shared by reference count; lookup_prefix
// walks the tree from the root. Unreferenced nodes stay cached and are evicted leaf first in
// LRU order, so a prefix shared by many requests outlives every branch below it. A prefix is
// kept from eviction (pinned) by holding a reference to it: a scheduler allocates it, with
// num_cached = its length and num_new = 0, under an id of its own and releases that id
// when the prefix is no longer wanted. Later groups hold pruned token sets, not prefixes, and
// take private blocks from the same pool.
//
// Swap moves every device block of a request to the host tier and back; the blocks that come
// back are private and rejoin the tree at the next commit where their content is not cached
// any more. Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "block_tree.h"
#include "bricks/bricks.hpp"
#include "group_blocks.h"
#include "host_tier.h"
#include "kv_tables.h"

namespace bricks::kv_prefix_tree {

class PrefixTreeKv final : public KvManager {
 public:
  PrefixTreeKv(const Host& host, const Params& params);

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
    int32_t tree_blocks = 0;  // leading group-0 blocks that are tree nodes
  };

  void require_configured(const char* verb) const;
  void check_group(int32_t group, const char* verb) const;
  // Walks the tree over the leading full blocks of `r` (at most max_blocks); appends the
  // nodes found to `hits` when non-null. Returns how many were found.
  int32_t walk(const bricks_request_view& r, int32_t max_blocks, std::vector<int32_t>* hits) const;

  int32_t block_size_;
  bool configured_ = false;
  int32_t num_groups_ = 1;
  BlockTree tree_;
  kvc::HostTier host_tier_;
  std::unordered_map<uint64_t, RequestKv> requests_;
  std::vector<kvc::TableBuffers> tables_;  // [group]
  std::vector<bricks_block_copy> queued_, handed_out_;
  std::vector<int32_t> scratch_;
  bricks_kv_stats stats_{};
};

}  // namespace bricks::kv_prefix_tree
