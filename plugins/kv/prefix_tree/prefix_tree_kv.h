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

#include "block_tree.h"
#include "bricks/bricks.hpp"
#include "prefix_kv_brick.h"

namespace bricks::kv_prefix_tree {

class PrefixTreeKv final : public kvc::PrefixKvBrick<BlockTree> {
 public:
  PrefixTreeKv(const Host& host, const Params& params);
};

}  // namespace bricks::kv_prefix_tree
