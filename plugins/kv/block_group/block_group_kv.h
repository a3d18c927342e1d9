// kv/block_group: FastSwitch's KV manager. Blocks are placed in contiguous block groups so
// that a request's KV forms few runs and a swap moves it in few, large copies; the KV of a
// finished conversation turn is kept on the host tier for the conversation's next turn.
//
// Placement: a request starts at a boundary of an aligned group of `group_blocks` blocks,
// in the free run with the most room, and grows in place into the blocks that follow; when
// they are taken it continues in another wholly free group (see RunSpace). Blocks are
// allocated as tokens need them, so free counts are exact and nothing is reserved ahead.
//
// Swaps: swap_out moves every device block of a request to one contiguous host run where
// one is free, so a swap costs one copy per device run; swap_in places the blocks back as
// a fresh request would be placed.
//
// Conversations (keep_conversations): when a request with a non-zero conversation id is
// released while on the device, its leading full blocks of committed group-0 tokens are
// copied to the host tier and kept under the conversation id; a kept entry of the same
// conversation that the new tokens extend keeps its host blocks and only the new blocks are
// copied. A later request of that conversation whose tokens start with the kept tokens gets
// a prefix hit from lookup_prefix, and allocate with num_cached copies those blocks back.
// Kept entries are evicted least recently used first whenever swap_out or a newer entry
// needs host blocks. The brick cannot tell a finished request from one preempted by
// recompute (both are released), so both are kept; a recomputed request then reuses its own
// context when it is admitted again.
//
// Accounting: free_host_blocks counts kept blocks as free (they are evicted on demand), as
// free_device_blocks counts cached blocks in kv/paged. swap_copies counts every copy run
// the brick queues (swaps and conversation keep/restore); blocks_swapped_out/in count every
// block moved down/up a tier. The prefix statistics count conversation hits.
//
// There is no device-side prefix cache shared across requests: blocks are never shared,
// which keeps runs private to their request. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/bricks.hpp"
#include "conversation_store.h"
#include "kv_brick.h"
#include "run_space.h"

namespace bricks::kv_block_group {

// A request's record: its blocks, and for a kept conversation its committed group-0 tokens.
struct GroupRequest : kvc::GroupBlocks {
  uint64_t conversation = 0;
  std::vector<int32_t> tokens;  // committed group-0 tokens, kept only for conversations
};

class BlockGroupKv final : public kvc::KvBrick<GroupRequest> {
 public:
  BlockGroupKv(const Host& host, const Params& params);

  int32_t lookup_prefix(const bricks_request_view& r, int32_t group) override;
  bool allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                int32_t num_new) override;
  void commit(const bricks_request_view& r, int32_t group) override;
  void release(uint64_t request_id) override;
  bool swap_out(uint64_t request_id) override;
  bool swap_in(uint64_t request_id) override;

 private:
  void configure_tiers(const bricks_kv_geometry& geometry) override;
  void count_tiers(bricks_kv_stats& out) const override;
  bool keeps(uint64_t conversation) const {
    return keep_conversations_ && conversation != 0 && host_.num_blocks() > 0;
  }
  // Frees host blocks until `n` are free, evicting kept conversations other than `keep`,
  // oldest first. Returns whether n are free.
  bool make_host_room(int32_t n, uint64_t keep);
  // Copies the leading full blocks of a released request to the host tier (see above).
  void keep_conversation(const GroupRequest& req);

  int32_t group_blocks_;
  bool keep_conversations_;
  RunSpace device_;
  RunSpace host_;
  ConversationStore kept_;
};

}  // namespace bricks::kv_block_group
