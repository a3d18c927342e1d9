#include "prefix_tree_kv.h"

#include "group_blocks.h"
#include "kv_tables.h"

#include <algorithm>
#include <string>

namespace bricks::kv_prefix_tree {

namespace {

std::string req_name(uint64_t id) { return "kv/prefix_tree: request " + std::to_string(id); }

}  // namespace

PrefixTreeKv::PrefixTreeKv(const Host& host, const Params& params)
    : KvManager(host), block_size_(static_cast<int32_t>(params.get_int("block_size"))) {
  if (block_size_ < 1 || block_size_ > 256 || (block_size_ & (block_size_ - 1)) != 0) {
    throw Error::invalid("kv/prefix_tree: block_size " + std::to_string(block_size_) +
                         " is not a power of two in [1, 256]; use 16 (the default) or 8, 32, ...");
  }
}

void PrefixTreeKv::configure(const bricks_kv_geometry& g) {
  if (configured_) throw Error::invalid("kv/prefix_tree: configure was called twice; call it once");
  if (g.num_device_blocks < 1 || g.num_host_blocks < 0 || g.num_groups < 1) {
    throw Error::invalid(
        "kv/prefix_tree: geometry needs num_device_blocks >= 1, num_host_blocks >= 0 "
        "and num_groups >= 1 (got " +
        std::to_string(g.num_device_blocks) + ", " + std::to_string(g.num_host_blocks) + ", " +
        std::to_string(g.num_groups) + ")");
  }
  tree_ = BlockTree(g.num_device_blocks, block_size_);
  host_tier_ = kvc::HostTier(g.num_host_blocks);
  num_groups_ = g.num_groups;
  tables_.assign(static_cast<size_t>(num_groups_), kvc::TableBuffers{});
  configured_ = true;
}

void PrefixTreeKv::require_configured(const char* verb) const {
  if (!configured_) {
    throw Error::invalid(std::string("kv/prefix_tree: ") + verb +
                         " before configure; the engine must configure the pool first");
  }
}

void PrefixTreeKv::check_group(int32_t group, const char* verb) const {
  require_configured(verb);
  if (group < 0 || group >= num_groups_) {
    throw Error::invalid(std::string("kv/prefix_tree: ") + verb + " for KV group " +
                         std::to_string(group) + ", but the geometry has " +
                         std::to_string(num_groups_) + " group(s)");
  }
}

int32_t PrefixTreeKv::walk(const bricks_request_view& r, int32_t max_blocks,
                           std::vector<int32_t>* hits) const {
  int32_t node = BlockTree::kRoot;
  int32_t found = 0;
  for (; found < max_blocks; ++found) {
    node = tree_.find_child(node, r.tokens + static_cast<size_t>(found) * block_size_);
    if (node < 0) break;
    if (hits != nullptr) hits->push_back(node);
  }
  return found;
}

int32_t PrefixTreeKv::lookup_prefix(const bricks_request_view& r, int32_t group) {
  if (!configured_ || group != 0 || r.tokens == nullptr || r.num_tokens < 2) return 0;
  return walk(r, (r.num_tokens - 1) / block_size_, nullptr) * block_size_;
}

bool PrefixTreeKv::allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
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
  if (num_cached > 0) {
    if (!first || group != 0 || r.num_computed != 0) {
      throw Error::invalid(req_name(r.id) +
                           ": num_cached > 0 is only for group 0 of a request "
                           "that holds no blocks and has num_computed == 0");
    }
    const int32_t want = num_cached / block_size_;
    if (r.tokens == nullptr || num_cached >= r.num_tokens || walk(r, want, &scratch_) < want) {
      throw Error::invalid(req_name(r.id) + ": num_cached " + std::to_string(num_cached) +
                           " is more than the prefix tree holds; pass what lookup_prefix "
                           "returned just before");
    }
  }

  const int64_t total = static_cast<int64_t>(r.num_computed) + num_cached + num_new;
  const int32_t have = static_cast<int32_t>((held ? held->size() : 0) + scratch_.size());
  const int32_t extra = std::max(0, kvc::blocks_for(total, block_size_) - have);
  int32_t idle_hits = 0;
  for (int32_t b : scratch_) idle_hits += tree_.ref_count(b) == 0 ? 1 : 0;
  if (extra > tree_.num_free() - idle_hits) return false;

  if (it == requests_.end()) {
    RequestKv fresh;
    fresh.device.resize(static_cast<size_t>(num_groups_));
    fresh.host.resize(static_cast<size_t>(num_groups_));
    it = requests_.emplace(r.id, std::move(fresh)).first;
  }
  RequestKv& req = it->second;
  std::vector<int32_t>& blocks = req.device[static_cast<size_t>(group)];
  // Hits first: allocating could otherwise evict the very nodes about to be taken.
  for (int32_t b : scratch_) {
    tree_.take(b);
    blocks.push_back(b);
  }
  tree_.allocate(extra, blocks);
  if (group == 0 && first) {
    req.tree_blocks = static_cast<int32_t>(scratch_.size());
    stats_.prefix_query_tokens += r.num_tokens;
    stats_.prefix_hit_tokens += num_cached;
  }
  return true;
}

void PrefixTreeKv::commit(const bricks_request_view& r, int32_t group) {
  if (!configured_ || group != 0 || r.tokens == nullptr) return;
  auto it = requests_.find(r.id);
  if (it == requests_.end() || it->second.swapped) return;
  RequestKv& req = it->second;
  const std::vector<int32_t>& blocks = req.device[0];
  const int32_t computed = std::min(r.num_computed, r.num_tokens);
  const int32_t full = std::min(computed / block_size_, static_cast<int32_t>(blocks.size()));
  try {
    // Stops at the first block whose content another node already caches; a later commit
    // tries again, so the request's blocks join the tree once that node is evicted.
    while (req.tree_blocks < full) {
      const size_t i = static_cast<size_t>(req.tree_blocks);
      const int32_t parent = i == 0 ? BlockTree::kRoot : blocks[i - 1];
      if (!tree_.insert(parent, blocks[i], r.tokens + i * static_cast<size_t>(block_size_))) break;
      ++req.tree_blocks;
    }
  } catch (const std::exception& e) {
    host().warn(req_name(r.id) + ": prefix tree not updated: " + e.what());
  }
}

void PrefixTreeKv::release(uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  kvc::release_blocks(it->second, tree_, host_tier_);
  requests_.erase(it);
}

void PrefixTreeKv::build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
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
  kvc::fill_page_table("kv/prefix_tree", group, seqs, num_seqs, block_size_, blocks_of,
                       tables_[static_cast<size_t>(group)], table, slots);
}

void PrefixTreeKv::stats(bricks_kv_stats& out) const {
  out = stats_;
  out.struct_size = sizeof(bricks_kv_stats);
  out.num_device_blocks = tree_.num_blocks();
  out.free_device_blocks = tree_.num_free();
  out.num_host_blocks = host_tier_.num_blocks();
  out.free_host_blocks = host_tier_.num_free();
}

bool PrefixTreeKv::swap_out(uint64_t request_id) {
  require_configured("swap_out");
  auto it = requests_.find(request_id);
  if (it == requests_.end() || it->second.swapped) {
    throw Error::invalid(req_name(request_id) + (it == requests_.end()
                                                     ? " holds no blocks; nothing to swap out"
                                                     : " is already swapped out"));
  }
  RequestKv& req = it->second;
  const int64_t moved =
      kvc::swap_out_blocks(req, tree_, host_tier_, scratch_, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  req.tree_blocks = 0;
  stats_.blocks_swapped_out += moved;
  return true;
}

bool PrefixTreeKv::swap_in(uint64_t request_id) {
  require_configured("swap_in");
  auto it = requests_.find(request_id);
  if (it == requests_.end() || !it->second.swapped) {
    throw Error::invalid(req_name(request_id) + " is not swapped out; nothing to swap in");
  }
  RequestKv& req = it->second;
  const int64_t moved = kvc::swap_in_blocks(req, tree_, host_tier_, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  stats_.blocks_swapped_in += moved;
  return true;
}

int32_t PrefixTreeKv::take_copies(const bricks_block_copy** out) {
  handed_out_.swap(queued_);
  queued_.clear();
  *out = handed_out_.data();
  return static_cast<int32_t>(handed_out_.size());
}

}  // namespace bricks::kv_prefix_tree
