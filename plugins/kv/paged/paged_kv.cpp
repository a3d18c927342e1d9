#include "paged_kv.h"

#include "group_blocks.h"
#include "kv_tables.h"

#include <algorithm>
#include <string>

#include "prefix_hash.h"

namespace bricks::kv_paged {

using kvc::block_hash;
using kvc::kRootHash;

namespace {

std::string req_name(uint64_t id) { return "kv/paged: request " + std::to_string(id); }

}  // namespace

PagedKv::PagedKv(const Host& host, const Params& params)
    : KvManager(host), block_size_(static_cast<int32_t>(params.get_int("block_size"))) {
  if (block_size_ < 1 || block_size_ > 256 || (block_size_ & (block_size_ - 1)) != 0) {
    throw Error::invalid("kv/paged: block_size " + std::to_string(block_size_) +
                         " is not a power of two in [1, 256]; use 16 (the default) or 8, 32, ...");
  }
  pool_ = BlockPool(0, block_size_, params.get_bool("enable_prefix_cache"));
}

void PagedKv::configure(const bricks_kv_geometry& g) {
  if (configured_) throw Error::invalid("kv/paged: configure was called twice; call it once");
  if (g.num_device_blocks < 1 || g.num_host_blocks < 0 || g.num_groups < 1) {
    throw Error::invalid(
        "kv/paged: geometry needs num_device_blocks >= 1, num_host_blocks >= 0 "
        "and num_groups >= 1 (got " +
        std::to_string(g.num_device_blocks) + ", " + std::to_string(g.num_host_blocks) + ", " +
        std::to_string(g.num_groups) + ")");
  }
  pool_ = BlockPool(g.num_device_blocks, block_size_, pool_.cache_enabled());
  host_tier_ = kvc::HostTier(g.num_host_blocks);
  num_groups_ = g.num_groups;
  tables_.assign(static_cast<size_t>(num_groups_), kvc::TableBuffers{});
  configured_ = true;
}

void PagedKv::require_configured(const char* verb) const {
  if (!configured_) {
    throw Error::invalid(std::string("kv/paged: ") + verb +
                         " before configure; the engine must configure the pool first");
  }
}

void PagedKv::check_group(int32_t group, const char* verb) const {
  require_configured(verb);
  if (group < 0 || group >= num_groups_) {
    throw Error::invalid(std::string("kv/paged: ") + verb + " for KV group " +
                         std::to_string(group) + ", but the geometry has " +
                         std::to_string(num_groups_) + " group(s)");
  }
}

int32_t PagedKv::walk_prefix(const bricks_request_view& r, int32_t max_blocks,
                             std::vector<int32_t>* hits, uint64_t* last_hash) const {
  uint64_t parent = kRootHash;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    const int32_t* tokens = r.tokens + static_cast<size_t>(found) * block_size_;
    const uint64_t h = block_hash(parent, tokens, block_size_);
    const int32_t block = pool_.find_cached(h, parent, tokens);
    if (block < 0) break;
    if (hits != nullptr) hits->push_back(block);
    parent = h;
  }
  if (last_hash != nullptr) *last_hash = parent;
  return found;
}

int32_t PagedKv::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!configured_ || group != 0 || !pool_.cache_enabled() || r.tokens == nullptr ||
      r.num_tokens < 2) {
    return 0;
  }
  return walk_prefix(r, (r.num_tokens - 1) / block_size_, nullptr, nullptr) * block_size_;
}

bool PagedKv::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                       int32_t num_new) {
  check_group(group, "allocate");
  if (num_cached < 0 || num_new < 0 || num_cached % block_size_ != 0) {
    throw Error::invalid(req_name(r.id) + ": allocate needs num_cached >= 0 (a multiple of " +
                         std::to_string(block_size_) + ") and num_new >= 0");
  }
  auto it = requests_.find(r.id);
  if (it != requests_.end() && it->second.swapped) {
    throw Error::invalid(req_name(r.id) + " is swapped out; swap_in before allocate");
  }
  const std::vector<int32_t>* held =
      it != requests_.end() ? &it->second.device[static_cast<size_t>(group)] : nullptr;
  const bool first = held == nullptr || held->empty();

  scratch_.clear();
  uint64_t last_hash = kRootHash;
  if (num_cached > 0) {
    if (!first || group != 0 || r.num_computed != 0) {
      throw Error::invalid(req_name(r.id) +
                           ": num_cached > 0 is only for group 0 of a request "
                           "that holds no blocks and has num_computed == 0");
    }
    const int32_t want = num_cached / block_size_;
    if (r.tokens == nullptr || num_cached >= r.num_tokens ||
        walk_prefix(r, want, &scratch_, &last_hash) < want) {
      throw Error::invalid(req_name(r.id) + ": num_cached " + std::to_string(num_cached) +
                           " is more than the prefix cache holds; pass what lookup_prefix "
                           "returned just before");
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t have = static_cast<int32_t>((held ? held->size() : 0) + scratch_.size());
  const int32_t extra = std::max(0, kvc::blocks_for(total, block_size_) - have);
  int32_t hits_on_free_list = 0;
  for (int32_t b : scratch_) hits_on_free_list += pool_.ref_count(b) == 0 ? 1 : 0;
  if (extra > pool_.num_free() - hits_on_free_list) return false;

  if (it == requests_.end()) {
    RequestKv fresh;
    fresh.device.resize(static_cast<size_t>(num_groups_));
    fresh.host.resize(static_cast<size_t>(num_groups_));
    fresh.last_hash = kRootHash;
    it = requests_.emplace(r.id, std::move(fresh)).first;
  }
  RequestKv& req = it->second;
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  for (int32_t b : scratch_) {
    pool_.take(b);
    blocks.push_back(b);
  }
  pool_.allocate(extra, blocks);
  if (group == 0 && first) {
    req.hashed_blocks = static_cast<int32_t>(scratch_.size());
    req.last_hash = last_hash;
    stats_.prefix_query_tokens += r.num_tokens;
    stats_.prefix_hit_tokens += num_cached;
  }
  return true;
}

void PagedKv::commit(const bricks_request_view& r, int32_t group) {
  if (!configured_ || group != 0 || !pool_.cache_enabled() || r.tokens == nullptr) return;
  auto it = requests_.find(r.id);
  if (it == requests_.end() || it->second.swapped) return;
  RequestKv& req = it->second;
  const std::vector<int32_t>& blocks = req.device[0];
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  const int32_t full = std::min(computed / block_size_, static_cast<int32_t>(blocks.size()));
  try {
    for (int32_t i = req.hashed_blocks; i < full; ++i) {
      const int32_t* tokens = r.tokens + static_cast<size_t>(i) * block_size_;
      const uint64_t h = block_hash(req.last_hash, tokens, block_size_);
      pool_.register_full(blocks[static_cast<size_t>(i)], h, req.last_hash, tokens);
      req.last_hash = h;
      req.hashed_blocks = i + 1;
    }
  } catch (const std::exception& e) {
    host().warn(req_name(r.id) + ": prefix cache not updated: " + e.what());
  }
}

void PagedKv::release(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  kvc::release_blocks(it->second, pool_, host_tier_);
  requests_.erase(it);
}

void PagedKv::build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                               bricks_page_table& table, int32_t* slots) {
  check_group(group, "build_page_table");
  const auto blocks_of = [&](const bricks_kv_seq& seq) -> const std::vector<int32_t>& {
    auto it = requests_.find(seq.request_id);
    if (it == requests_.end() || it->second.swapped) {
      throw Error::invalid(req_name(seq.request_id) +
                           (it == requests_.end()
                                ? " holds no blocks; allocate before build_page_table"
                                : " is swapped out; swap_in before build_page_table"));
    }
    return it->second.device[static_cast<size_t>(group)];
  };
  kvc::fill_page_table("kv/paged", group, seqs, num_seqs, block_size_, blocks_of,
                       tables_[static_cast<size_t>(group)], table, slots);
}

void PagedKv::stats(bricks_kv_stats& out) const {
  out = stats_;
  out.struct_size = sizeof(bricks_kv_stats);
  out.num_device_blocks = pool_.num_blocks();
  out.free_device_blocks = pool_.num_free();
  out.num_host_blocks = host_tier_.num_blocks();
  out.free_host_blocks = host_tier_.num_free();
}

bool PagedKv::swap_out(uint64_t request_id) {
  require_configured("swap_out");
  auto it = requests_.find(request_id);
  if (it == requests_.end() || it->second.swapped) {
    throw Error::invalid(req_name(request_id) + (it == requests_.end()
                                                     ? " holds no blocks; nothing to swap out"
                                                     : " is already swapped out"));
  }
  RequestKv& req = it->second;
  const int64_t moved =
      kvc::swap_out_blocks(req, pool_, host_tier_, scratch_, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  stats_.blocks_swapped_out += moved;
  return true;
}

bool PagedKv::swap_in(uint64_t request_id) {
  require_configured("swap_in");
  auto it = requests_.find(request_id);
  if (it == requests_.end() || !it->second.swapped) {
    throw Error::invalid(req_name(request_id) + " is not swapped out; nothing to swap in");
  }
  RequestKv& req = it->second;
  const int64_t moved = kvc::swap_in_blocks(req, pool_, host_tier_, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  // The new device blocks hold no cache entries yet; the next commit registers them again.
  req.hashed_blocks = 0;
  req.last_hash = kRootHash;
  stats_.blocks_swapped_in += moved;
  return true;
}

int32_t PagedKv::take_copies(const bricks_block_copy** out) {
  handed_out_.swap(queued_);
  queued_.clear();
  *out = handed_out_.data();
  return static_cast<int32_t>(handed_out_.size());
}

}  // namespace bricks::kv_paged
