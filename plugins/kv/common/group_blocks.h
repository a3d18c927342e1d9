// A request's KV blocks, per KV group, on the device or (while swapped) on the host tier,
// and the moves between the two that the paged and prefix_tree bricks make the same way.
// `Device` is the brick's device allocator and `Host` its host tier; both offer
// num_free(), allocate(n, out) (appending n ids to out) and release(id).
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

// Frees every block `b` holds. Device blocks go tail first, so of one request's blocks the
// last ones become the least recently used.
template <class Device, class Host>
void release_blocks(GroupBlocks& b, Device& device, Host& host) {
  for (auto& blocks : b.device) {
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) device.release(*it);
  }
  for (auto& blocks : b.host) {
    for (int32_t id : blocks) host.release(id);
  }
}

// Moves `b` to the host tier: queues each group's device -> host copies on `queued`
// (queue_block_copies; `copy_runs` counts the runs added) and frees the device blocks
// (tail first). Returns the blocks moved, or -1 (changing nothing) when the host tier lacks
// room. `scratch` is the caller's reusable buffer.
template <class Device, class Host>
int64_t swap_out_blocks(GroupBlocks& b, Device& device, Host& host, std::vector<int32_t>& scratch,
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
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) device.release(*it);
    blocks.clear();
  }
  b.swapped = true;
  return static_cast<int64_t>(total);
}

// Moves `b` back to the device: allocates each group's blocks, queues the host -> device
// copies as swap_out_blocks does and frees the host blocks. Returns the blocks moved, or
// -1 (changing nothing) when the device lacks room.
template <class Device, class Host>
int64_t swap_in_blocks(GroupBlocks& b, Device& device, Host& host,
                       std::vector<bricks_block_copy>& queued, int64_t& copy_runs) {
  size_t total = 0;
  for (const auto& blocks : b.host) total += blocks.size();
  if (static_cast<int64_t>(total) > device.num_free()) return -1;
  for (size_t g = 0; g < b.host.size(); ++g) {
    std::vector<int32_t>& host_blocks = b.host[g];
    device.allocate(static_cast<int32_t>(host_blocks.size()), b.device[g]);
    copy_runs += queue_block_copies(queued, BRICKS_TIER_HOST, host_blocks, BRICKS_TIER_DEVICE,
                                    b.device[g], 0, host_blocks.size());
    for (int32_t id : host_blocks) host.release(id);
    host_blocks.clear();
  }
  b.swapped = false;
  return static_cast<int64_t>(total);
}

}  // namespace bricks::kvc
