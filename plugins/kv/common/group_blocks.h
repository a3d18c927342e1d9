// A request's KV blocks, per KV group, on the device or (while swapped) on the host tier,
// and the moves between the two that every kv brick makes the same way.
// `Device` and `Host` are small views of the brick's two tiers, passed by value (PoolTier or
// the brick's own); each offers num_free(), allocate(n, out) (appending n ids to `out`, which
// on the device holds the request's blocks of that group so far; the caller has checked
// num_free() >= n) and release_all(blocks) (freeing every id in `blocks`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bricks/bricks.hpp"
#include "kv_tables.h"

namespace bricks::kvc {

struct GroupBlocks {
  std::vector<std::vector<int32_t>> device;  // [group] device block ids, in token order
  std::vector<std::vector<int32_t>> host;    // [group] host block ids while swapped
  bool swapped = false;
};

// A pool that takes blocks back one at a time (release(id)) as a tier of the moves below. It
// frees a request's blocks last first, so of them the last become the least recently used.
template <class Pool>
struct PoolTier {
  Pool& pool;

  int32_t num_free() const { return pool.num_free(); }
  void allocate(int32_t n, std::vector<int32_t>& out) { pool.allocate(n, out); }
  void release_all(const std::vector<int32_t>& blocks) {
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) pool.release(*it);
  }
};

template <class Pool>
PoolTier(Pool&) -> PoolTier<Pool>;

// Frees every block `b` holds.
template <class Device, class Host>
void release_blocks(const GroupBlocks& b, Device device, Host host) {
  for (const auto& blocks : b.device) device.release_all(blocks);
  for (const auto& blocks : b.host) host.release_all(blocks);
}

// Moves `b` to the host tier: queues each group's device -> host copies on `queued`
// (queue_block_copies; `copy_runs` counts the runs added) and frees the device blocks.
// Returns the blocks moved, or -1 (changing nothing) when the host tier lacks room.
// `scratch` is the caller's reusable buffer.
template <class Device, class Host>
int64_t swap_out_blocks(GroupBlocks& b, Device device, Host host, std::vector<int32_t>& scratch,
                        std::vector<bricks_block_copy>& queued, int64_t& copy_runs) {
  size_t total = 0;
  for (const auto& blocks : b.device) total += blocks.size();
  if (static_cast<int64_t>(total) > host.num_free()) return -1;
  scratch.clear();
  host.allocate(static_cast<int32_t>(total), scratch);
  size_t next = 0;
  for (size_t g = 0; g < b.device.size(); ++g) {
    std::vector<int32_t>& blocks = b.device[g];
    b.host[g].assign(scratch.begin() + static_cast<std::ptrdiff_t>(next),
                     scratch.begin() + static_cast<std::ptrdiff_t>(next + blocks.size()));
    next += blocks.size();
    copy_runs += queue_block_copies(queued, BRICKS_TIER_DEVICE, blocks, BRICKS_TIER_HOST, b.host[g],
                                    0, blocks.size());
    device.release_all(blocks);
    blocks.clear();
  }
  b.swapped = true;
  return static_cast<int64_t>(total);
}

// Moves `b` back to the device: allocates each group's blocks, queues the host -> device
// copies as swap_out_blocks does and frees the host blocks. Returns the blocks moved, or
// -1 (changing nothing) when the device lacks room.
template <class Device, class Host>
int64_t swap_in_blocks(GroupBlocks& b, Device device, Host host,
                       std::vector<bricks_block_copy>& queued, int64_t& copy_runs) {
  size_t total = 0;
  for (const auto& blocks : b.host) total += blocks.size();
  if (static_cast<int64_t>(total) > device.num_free()) return -1;
  for (size_t g = 0; g < b.host.size(); ++g) {
    std::vector<int32_t>& host_blocks = b.host[g];
    device.allocate(static_cast<int32_t>(host_blocks.size()), b.device[g]);
    copy_runs += queue_block_copies(queued, BRICKS_TIER_HOST, host_blocks, BRICKS_TIER_DEVICE,
                                    b.device[g], 0, host_blocks.size());
    host.release_all(host_blocks);
    host_blocks.clear();
  }
  b.swapped = false;
  return static_cast<int64_t>(total);
}

}  // namespace bricks::kvc
