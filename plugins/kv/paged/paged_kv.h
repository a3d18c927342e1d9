// kv/paged: vLLM-style paged KV manager with an LRU prefix cache and swap to the host tier.
//
// Blocks of every KV group come from one device pool (BlockPool, which is also the prefix
// cache). The prefix cache covers group 0 only: later groups hold pruned token sets that are
// not prefixes of the request's tokens.
// Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include "block_pool.h"
#include "bricks/bricks.hpp"
#include "prefix_kv_brick.h"

namespace bricks::kv_paged {

class PagedKv final : public kvc::PrefixKvBrick<BlockPool> {
 public:
  PagedKv(const Host& host, const Params& params);
};

}  // namespace bricks::kv_paged
