// What the paged kv bricks (kv/paged, kv/prefix_tree, kv/block_group) do the same way, so
// that each keeps only its own policy: where device blocks come from, what is cached for
// later requests, and how a swap places blocks.
//
// KvBrickCore holds the parts that do not know a request's record: the block_size
// parameter, the geometry, the page-table buffers, the queue of block copies, the
// statistics and the error text that names the brick. KvBrick<Request> adds the table of
// requests and the verbs that look a request up (build_page_table and the checks that open
// allocate and the swaps). Error messages are the same for every brick but its name.
// Not thread-safe: the host calls one instance from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "group_blocks.h"
#include "id_map.h"
#include "kv_tables.h"

namespace bricks::kvc {

class KvBrickCore : public KvManager {
 public:
  int32_t block_size() const final { return block_size_; }
  // Checks the geometry, then has the brick size its tiers (configure_tiers). Once only.
  void configure(const bricks_kv_geometry& geometry) final;
  // The brick's counters, with the tier sizes and free counts from count_tiers.
  void stats(bricks_kv_stats& out) const final;
  bool supports_swap() const final { return true; }
  // Hands out every copy queued since the last call; the array stays valid until the next.
  int32_t take_copies(const bricks_block_copy** out) final;

 protected:
  // `name` ("kv/paged") starts every error. Reads the "block_size" parameter and throws
  // unless it is a power of two in [1, 256].
  KvBrickCore(const Host& host, const Params& params, const char* name);

  // Sizes the device pool and the host tier for a geometry configure has checked.
  virtual void configure_tiers(const bricks_kv_geometry& geometry) = 0;
  // Sets num_device_blocks, free_device_blocks, num_host_blocks and free_host_blocks.
  virtual void count_tiers(bricks_kv_stats& out) const = 0;

  bool configured() const { return configured_; }
  int32_t num_groups() const { return num_groups_; }
  // "kv/paged: request 7", how errors about one request start.
  std::string request_name(uint64_t id) const;
  // Throws unless configure has run; `verb` names the call in the error.
  void require_configured(const char* verb) const;
  // As require_configured, and throws unless `group` is one of the geometry's groups.
  void check_group(int32_t group, const char* verb) const;
  // Throws that `num_cached` is more than `store` ("prefix cache") holds for request `id`.
  [[noreturn]] void throw_not_cached(uint64_t id, int32_t num_cached, const char* store) const;
  // Counts a request's first allocation in group 0 in the prefix statistics.
  void count_prefix_query(const bricks_request_view& r, int32_t num_cached);
  // Queues the copies src[i] -> dst[i] for i in [begin, end), counting runs in swap_copies.
  void queue_copies(bricks_tier src_tier, const std::vector<int32_t>& src, bricks_tier dst_tier,
                    const std::vector<int32_t>& dst, size_t begin, size_t end);
  // Moves `b` to the host tier (swap_out_blocks) and counts it. False, changing nothing,
  // when the host tier lacks room.
  template <class Device, class HostBlocks>
  bool move_out(GroupBlocks& b, Device device, HostBlocks host);
  // Moves `b` back to the device (swap_in_blocks) and counts it. False, changing nothing,
  // when the device lacks room.
  template <class Device, class HostBlocks>
  bool move_in(GroupBlocks& b, Device device, HostBlocks host);
  // Fills the page table of `group` (checked) as fill_page_table does.
  template <class BlocksOf>
  void fill_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                  const BlocksOf& blocks_of, bricks_page_table& table, int32_t* slots);

  const int32_t block_size_;
  bricks_kv_stats stats_{};                // counters; stats() adds the tier counts
  std::vector<bricks_block_copy> queued_;  // copies not handed out yet
  std::vector<int32_t> scratch_;           // a buffer any one call may reuse

 private:
  std::string name_;
  bool configured_ = false;
  int32_t num_groups_ = 1;
  std::vector<TableBuffers> tables_;  // [group]
  std::vector<bricks_block_copy> handed_out_;
};

// `Request` is the brick's record of one request; it derives from GroupBlocks.
template <class Request>
class KvBrick : public KvBrickCore {
 public:
  // Tables stay valid until the next build_page_table for the same group.
  void build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                        bricks_page_table& table, int32_t* slots) final;

 protected:
  using KvBrickCore::KvBrickCore;

  // Where an allocate starts from.
  struct Allocation {
    Request* request = nullptr;  // null while the request holds nothing
    int32_t held = 0;            // blocks it holds in the group
    bool first = true;           // whether the group gets its first blocks
  };

  // Checks allocate's arguments and finds the request. Throws on a bad group or counts,
  // on a swapped-out request, and on num_cached > 0 other than for the first blocks of
  // group 0 of a request with num_computed == 0.
  Allocation begin_allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                            int32_t num_new);
  // The record of request `id`, added (with a block list per group) if there is none.
  Request& record(uint64_t id);
  // The request to swap out; throws unless it holds blocks on the device.
  Request& swapping_out(uint64_t id);
  // The request to swap in; throws unless it is swapped out.
  Request& swapping_in(uint64_t id);

  IdMap<Request> requests_;
};

template <class Device, class HostBlocks>
bool KvBrickCore::move_out(GroupBlocks& b, Device device, HostBlocks host) {
  const int64_t moved = swap_out_blocks(b, device, host, scratch_, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  stats_.blocks_swapped_out += moved;
  return true;
}

template <class Device, class HostBlocks>
bool KvBrickCore::move_in(GroupBlocks& b, Device device, HostBlocks host) {
  const int64_t moved = swap_in_blocks(b, device, host, queued_, stats_.swap_copies);
  if (moved < 0) return false;
  stats_.blocks_swapped_in += moved;
  return true;
}

template <class BlocksOf>
void KvBrickCore::fill_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                             const BlocksOf& blocks_of, bricks_page_table& table, int32_t* slots) {
  check_group(group, "build_page_table");
  fill_page_table(name_.c_str(), group, seqs, num_seqs, block_size_, blocks_of,
                  tables_[static_cast<size_t>(group)], table, slots);
}

template <class Request>
void KvBrick<Request>::build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                                        bricks_page_table& table, int32_t* slots) {
  const auto blocks_of = [&](const bricks_kv_seq& seq) -> const std::vector<int32_t>& {
    auto it = requests_.find(seq.request_id);
    if (it == requests_.end() || it->second.swapped) {
      throw Error::invalid(request_name(seq.request_id) +
                           (it == requests_.end()
                                ? " holds no blocks; allocate before build_page_table"
                                : " is swapped out; swap_in before build_page_table"));
    }
    return it->second.device[static_cast<size_t>(group)];
  };
  fill_table(group, seqs, num_seqs, blocks_of, table, slots);
}

template <class Request>
typename KvBrick<Request>::Allocation KvBrick<Request>::begin_allocate(const bricks_request_view& r,
                                                                       int32_t group,
                                                                       int32_t num_cached,
                                                                       int32_t num_new) {
  check_group(group, "allocate");
  if (num_cached < 0 || num_new < 0 || num_cached % block_size_ != 0) {
    throw Error::invalid(request_name(r.id) + ": allocate needs num_cached >= 0 (a multiple of " +
                         std::to_string(block_size_) + ") and num_new >= 0");
  }
  Allocation a;
  auto it = requests_.find(r.id);
  if (it != requests_.end()) {
    if (it->second.swapped) {
      throw Error::invalid(request_name(r.id) + " is swapped out; swap_in before allocate");
    }
    a.request = &it->second;
    a.held = static_cast<int32_t>(it->second.device[static_cast<size_t>(group)].size());
    a.first = a.held == 0;
  }
  if (num_cached > 0 && (!a.first || group != 0 || r.num_computed != 0)) {
    throw Error::invalid(request_name(r.id) +
                         ": num_cached > 0 is only for group 0 of a request "
                         "that holds no blocks and has num_computed == 0");
  }
  return a;
}

template <class Request>
Request& KvBrick<Request>::record(uint64_t id) {
  auto it = requests_.find(id);
  if (it != requests_.end()) return it->second;
  Request fresh;
  fresh.device.resize(static_cast<size_t>(num_groups()));
  fresh.host.resize(static_cast<size_t>(num_groups()));
  return requests_.emplace(id, std::move(fresh)).first->second;
}

template <class Request>
Request& KvBrick<Request>::swapping_out(uint64_t id) {
  require_configured("swap_out");
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second.swapped) {
    throw Error::invalid(request_name(id) + (it == requests_.end()
                                                 ? " holds no blocks; nothing to swap out"
                                                 : " is already swapped out"));
  }
  return it->second;
}

template <class Request>
Request& KvBrick<Request>::swapping_in(uint64_t id) {
  require_configured("swap_in");
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.swapped) {
    throw Error::invalid(request_name(id) + " is not swapped out; nothing to swap in");
  }
  return it->second;
}

}  // namespace bricks::kvc
