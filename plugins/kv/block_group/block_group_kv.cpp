#include "block_group_kv.h"

#include <algorithm>
#include <string>

namespace bricks::kv_block_group {

namespace {

// A RunSpace as a tier of the shared block moves (group_blocks.h). On the device a request's
// blocks are placed as a growing request's are (take_for); on the host they are packed into
// as few runs as fit (take_packed), so a swap costs one copy per device run.
struct Runs {
  RunSpace& space;
  bool packed;

  int32_t num_free() const { return space.num_free(); }
  void allocate(int32_t n, std::vector<int32_t>& out) {
    if (packed) {
      space.take_packed(n, out);
    } else {
      space.take_for(out, n, out);
    }
  }
  void release_all(const std::vector<int32_t>& blocks) { space.release(blocks); }
};

}  // namespace

BlockGroupKv::BlockGroupKv(const Host& host, const Params& params)
    : KvBrick(host, params, "kv/block_group"),
      group_blocks_(static_cast<int32_t>(params.get_int("group_blocks"))),
      keep_conversations_(params.get_bool("keep_conversations")) {
  if (group_blocks_ < 1) {
    throw Error::invalid("kv/block_group: group_blocks " + std::to_string(group_blocks_) +
                         " must be >= 1; use 8 (the default)");
  }
  kept_ = ConversationStore(block_size_);
}

void BlockGroupKv::configure_tiers(const bricks_kv_geometry& g) {
  device_ = RunSpace(g.num_device_blocks, group_blocks_);
  host_ = RunSpace(g.num_host_blocks, group_blocks_);
}

void BlockGroupKv::count_tiers(bricks_kv_stats& out) const {
  out.num_device_blocks = device_.num_blocks();
  out.free_device_blocks = device_.num_free();
  out.num_host_blocks = host_.num_blocks();
  out.free_host_blocks = host_.num_free() + kept_.num_blocks();
}

int32_t BlockGroupKv::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || !keeps(r.conversation) || r.tokens == nullptr ||
      r.num_tokens < 2) {
    return 0;
  }
  const KeptConversation* entry = kept_.find(r.conversation);
  if (entry == nullptr) return 0;
  return kept_.matching_blocks(*entry, r.tokens, r.num_tokens - 1) * block_size_;
}

bool BlockGroupKv::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                            int32_t num_new) {
  const Allocation a = begin_allocate(r, group, num_cached, num_new);
  const int32_t cached_blocks = num_cached / block_size_;
  const KeptConversation* entry = nullptr;
  if (num_cached > 0) {
    entry = keeps(r.conversation) ? kept_.find(r.conversation) : nullptr;
    if (entry == nullptr || r.tokens == nullptr || num_cached >= r.num_tokens ||
        kept_.matching_blocks(*entry, r.tokens, r.num_tokens - 1) < cached_blocks) {
      throw_not_cached(r.id, num_cached, "kept conversation");
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t extra = std::max(0, kvc::blocks_for(total, block_size_) - a.held);
  if (extra > device_.num_free()) return false;

  GroupRequest& req = a.request != nullptr ? *a.request : record(r.id);
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  device_.take_for(blocks, extra, blocks);
  if (group == 0 && a.first) {
    req.conversation = r.conversation;
    req.tokens.clear();
    count_prefix_query(r, num_cached);
  }
  if (entry != nullptr) {
    queue_copies(BRICKS_TIER_HOST, entry->host_blocks, BRICKS_TIER_DEVICE, blocks, 0,
                 static_cast<size_t>(cached_blocks));
    stats_.blocks_swapped_in += cached_blocks;
    req.tokens.assign(r.tokens, r.tokens + num_cached);
    kept_.touch(r.conversation);
  }
  return true;
}

void BlockGroupKv::commit(const bricks_request_view& r, int32_t group) {
  if (!configured() || group != 0 || r.tokens == nullptr) return;
  auto it = requests_.find(r.id);
  if (it == requests_.end() || it->second.swapped || !keeps(it->second.conversation)) return;
  std::vector<int32_t>& kept = it->second.tokens;
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  // A request's tokens only grow, so only the newly computed ones are copied.
  if (computed > static_cast<int32_t>(kept.size())) {
    kept.insert(kept.end(), r.tokens + kept.size(), r.tokens + computed);
  }
}

bool BlockGroupKv::make_host_room(int32_t n, uint64_t keep) {
  while (host_.num_free() < n) {
    scratch_.clear();
    if (!kept_.evict_oldest(keep, scratch_)) return false;
    host_.release(scratch_);
  }
  return true;
}

void BlockGroupKv::keep_conversation(const GroupRequest& req) {
  const std::vector<int32_t>& device = req.device[0];
  const int32_t full = std::min(static_cast<int32_t>(req.tokens.size()) / block_size_,
                                static_cast<int32_t>(device.size()));
  if (full <= 0) return;
  KeptConversation entry;
  entry.conversation = req.conversation;
  int32_t reused = 0;
  if (const KeptConversation* old = kept_.find(req.conversation)) {
    reused = kept_.matching_blocks(*old, req.tokens.data(), full * block_size_);
    entry.host_blocks.assign(old->host_blocks.begin(), old->host_blocks.begin() + reused);
  }
  // Keep what fits: evicting older conversations, never this one's reused blocks.
  make_host_room(full - reused, req.conversation);
  const int32_t fresh = std::min(full - reused, host_.num_free());
  const int32_t kept_blocks = reused + fresh;
  if (kept_blocks == 0) return;
  if (fresh == 0 && reused == full) {
    kept_.touch(req.conversation);  // nothing new: the entry already holds all of it
    return;
  }
  host_.take_packed(fresh, entry.host_blocks);
  queue_copies(BRICKS_TIER_DEVICE, device, BRICKS_TIER_HOST, entry.host_blocks,
               static_cast<size_t>(reused), static_cast<size_t>(kept_blocks));
  stats_.blocks_swapped_out += fresh;
  entry.tokens.assign(req.tokens.begin(),
                      req.tokens.begin() + static_cast<std::ptrdiff_t>(kept_blocks) * block_size_);
  scratch_.clear();
  kept_.put(std::move(entry), scratch_);
  host_.release(scratch_);
}

void BlockGroupKv::release(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  GroupRequest& req = it->second;
  // The copies queued here run before the step that may reuse the freed device blocks.
  if (!req.swapped && keeps(req.conversation)) keep_conversation(req);
  kvc::release_blocks(req, Runs{device_, false}, Runs{host_, true});
  requests_.erase(it);
}

bool BlockGroupKv::swap_out(uint64_t request_id) {
  GroupRequest& req = swapping_out(request_id);
  int32_t total = 0;
  for (const auto& blocks : req.device) total += static_cast<int32_t>(blocks.size());
  if (total > host_.num_free() + kept_.num_blocks()) return false;
  make_host_room(total, 0);
  return move_out(req, Runs{device_, false}, Runs{host_, true});
}

bool BlockGroupKv::swap_in(uint64_t request_id) {
  return move_in(swapping_in(request_id), Runs{device_, false}, Runs{host_, true});
}

}  // namespace bricks::kv_block_group
