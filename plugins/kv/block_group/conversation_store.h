// The KV of finished conversation turns, kept on the host tier for the conversation's next
// turn (FastSwitch's multi-turn reuse).
//
// One entry per conversation: the token ids of its leading full blocks and the host blocks
// that hold their KV, block i of the tokens in host block blocks[i]. Entries are evicted
// least recently used first when the host tier is needed for swaps. A hit compares token ids
// block by block, so a next turn whose prompt differs from what was kept hits only on the
// blocks that match. Not thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace bricks::kv_block_group {

struct KeptConversation {
  uint64_t conversation = 0;
  std::vector<int32_t> tokens;       // [blocks.size() * block_size]
  std::vector<int32_t> host_blocks;  // host block of each kept block, in token order
};

class ConversationStore {
 public:
  explicit ConversationStore(int32_t block_size = 1) : block_size_(block_size) {}

  int32_t num_entries() const { return static_cast<int32_t>(lru_.size()); }
  // Host blocks held by all entries.
  int32_t num_blocks() const { return num_blocks_; }

  // The entry of `conversation`, or null. Does not change the LRU order.
  const KeptConversation* find(uint64_t conversation) const;
  // Leading blocks of `tokens[0, num_tokens)` that `entry` holds with equal token ids.
  int32_t matching_blocks(const KeptConversation& entry, const int32_t* tokens,
                          int32_t num_tokens) const;
  // Marks the entry most recently used.
  void touch(uint64_t conversation);

  // Replaces the entry of `entry.conversation` (its old host blocks, if any, are returned in
  // `freed` unless `entry` reuses them) and makes it the most recently used.
  void put(KeptConversation entry, std::vector<int32_t>& freed);
  // Removes the entry of `conversation`, appending its host blocks to `freed`.
  void erase(uint64_t conversation, std::vector<int32_t>& freed);
  // Removes the least recently used entry other than `keep` (0: none kept), appending its
  // host blocks to `freed`. Returns false when there is no such entry.
  bool evict_oldest(uint64_t keep, std::vector<int32_t>& freed);

 private:
  int32_t block_size_;
  int32_t num_blocks_ = 0;
  std::list<KeptConversation> lru_;  // front: most recently used
  std::unordered_map<uint64_t, std::list<KeptConversation>::iterator> by_id_;
};

}  // namespace bricks::kv_block_group
