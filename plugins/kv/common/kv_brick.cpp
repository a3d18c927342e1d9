#include "kv_brick.h"

namespace bricks::kvc {

KvBrickCore::KvBrickCore(const Host& host, const Params& params, const char* name)
    : KvManager(host),
      block_size_(static_cast<int32_t>(params.get_int("block_size"))),
      name_(name) {
  if (block_size_ < 1 || block_size_ > 256 || (block_size_ & (block_size_ - 1)) != 0) {
    throw Error::invalid(name_ + ": block_size " + std::to_string(block_size_) +
                         " is not a power of two in [1, 256]; use 16 (the default) or 8, 32, ...");
  }
}

void KvBrickCore::configure(const bricks_kv_geometry& g) {
  if (configured_) throw Error::invalid(name_ + ": configure was called twice; call it once");
  if (g.num_device_blocks < 1 || g.num_host_blocks < 0 || g.num_groups < 1) {
    throw Error::invalid(name_ +
                         ": geometry needs num_device_blocks >= 1, num_host_blocks >= 0 "
                         "and num_groups >= 1 (got " +
                         std::to_string(g.num_device_blocks) + ", " +
                         std::to_string(g.num_host_blocks) + ", " + std::to_string(g.num_groups) +
                         ")");
  }
  configure_tiers(g);
  num_groups_ = g.num_groups;
  tables_.assign(static_cast<size_t>(num_groups_), TableBuffers{});
  configured_ = true;
}

void KvBrickCore::stats(bricks_kv_stats& out) const {
  out = stats_;
  out.struct_size = sizeof(bricks_kv_stats);
  count_tiers(out);
}

int32_t KvBrickCore::take_copies(const bricks_block_copy** out) {
  handed_out_.swap(queued_);
  queued_.clear();
  *out = handed_out_.data();
  return static_cast<int32_t>(handed_out_.size());
}

std::string KvBrickCore::request_name(uint64_t id) const {
  return name_ + ": request " + std::to_string(id);
}

void KvBrickCore::require_configured(const char* verb) const {
  if (!configured_) {
    throw Error::invalid(name_ + ": " + verb +
                         " before configure; the engine must configure the pool first");
  }
}

void KvBrickCore::check_group(int32_t group, const char* verb) const {
  require_configured(verb);
  if (group < 0 || group >= num_groups_) {
    throw Error::invalid(name_ + ": " + verb + " for KV group " + std::to_string(group) +
                         ", but the geometry has " + std::to_string(num_groups_) + " group(s)");
  }
}

void KvBrickCore::throw_not_cached(uint64_t id, int32_t num_cached, const char* store) const {
  throw Error::invalid(request_name(id) + ": num_cached " + std::to_string(num_cached) +
                       " is more than the " + store +
                       " holds; pass what lookup_prefix returned just before");
}

void KvBrickCore::count_prefix_query(const bricks_request_view& r, int32_t num_cached) {
  stats_.prefix_query_tokens += r.num_tokens;
  stats_.prefix_hit_tokens += num_cached;
}

void KvBrickCore::queue_copies(bricks_tier src_tier, const std::vector<int32_t>& src,
                               bricks_tier dst_tier, const std::vector<int32_t>& dst, size_t begin,
                               size_t end) {
  stats_.swap_copies += queue_block_copies(queued_, src_tier, src, dst_tier, dst, begin, end);
}

}  // namespace bricks::kvc
