#include "paged_kv.h"

namespace bricks::kv_paged {

PagedKv::PagedKv(const Host& host, const Params& params)
    : PrefixKvBrick(host, params, "kv/paged", "prefix cache") {
  pool_ = BlockPool(0, block_size_, params.get_bool("enable_prefix_cache"));
}

}  // namespace bricks::kv_paged
