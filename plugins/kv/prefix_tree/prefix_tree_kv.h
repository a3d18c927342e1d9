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
#include <vector>

#include "block_tree.h"
#include "bricks/bricks.hpp"
#include "host_tier.h"
#include "kv_brick.h"

namespace bricks::kv_prefix_tree {

// A request's record: its blocks, and how many of group 0's are tree nodes.
struct TreeRequest : kvc::GroupBlocks {
  int32_t tree_blocks = 0;  // leading group-0 blocks that are tree nodes
};

class PrefixTreeKv final : public kvc::KvBrick<TreeRequest> {
 public:
  PrefixTreeKv(const Host& host, const Params& params);

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
  // Walks the tree over the leading full blocks of `r` (at most max_blocks); appends the
  // nodes found to `hits` when non-null. Returns how many were found.
  int32_t walk(const bricks_request_view& r, int32_t max_blocks, std::vector<int32_t>* hits) const;

  BlockTree tree_;
  kvc::HostTier host_tier_;
};

}  // namespace bricks::kv_prefix_tree
