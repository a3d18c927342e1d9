#include "conversation_store.h"

#include <algorithm>

namespace bricks::kv_block_group {

const KeptConversation* ConversationStore::find(uint64_t conversation) const {
  auto it = by_id_.find(conversation);
  return it == by_id_.end() ? nullptr : &*it->second;
}

int32_t ConversationStore::matching_blocks(const KeptConversation& entry, const int32_t* tokens,
                                           int32_t num_tokens) const {
  if (tokens == nullptr) return 0;
  const int32_t kept = static_cast<int32_t>(entry.host_blocks.size());
  const int32_t limit = std::min(kept, num_tokens / block_size_);
  int32_t b = 0;
  for (; b < limit; ++b) {
    const size_t at = static_cast<size_t>(b) * block_size_;
    if (!std::equal(tokens + at, tokens + at + block_size_, entry.tokens.begin() + at)) break;
  }
  return b;
}

void ConversationStore::touch(uint64_t conversation) {
  auto it = by_id_.find(conversation);
  if (it != by_id_.end()) lru_.splice(lru_.begin(), lru_, it->second);
}

void ConversationStore::put(KeptConversation entry, std::vector<int32_t>& freed) {
  auto it = by_id_.find(entry.conversation);
  if (it != by_id_.end()) {
    // Host blocks of the old entry that the new one does not reuse go back to the tier.
    const std::vector<int32_t>& old_blocks = it->second->host_blocks;
    std::vector<int32_t> reused = entry.host_blocks;
    std::sort(reused.begin(), reused.end());
    for (int32_t b : old_blocks) {
      if (!std::binary_search(reused.begin(), reused.end(), b)) freed.push_back(b);
    }
    num_blocks_ -= static_cast<int32_t>(old_blocks.size());
    lru_.erase(it->second);
    by_id_.erase(it);
  }
  num_blocks_ += static_cast<int32_t>(entry.host_blocks.size());
  const uint64_t id = entry.conversation;
  lru_.push_front(std::move(entry));
  by_id_[id] = lru_.begin();
}

void ConversationStore::erase(uint64_t conversation, std::vector<int32_t>& freed) {
  auto it = by_id_.find(conversation);
  if (it == by_id_.end()) return;
  const std::vector<int32_t>& blocks = it->second->host_blocks;
  freed.insert(freed.end(), blocks.begin(), blocks.end());
  num_blocks_ -= static_cast<int32_t>(blocks.size());
  lru_.erase(it->second);
  by_id_.erase(it);
}

bool ConversationStore::evict_oldest(uint64_t keep, std::vector<int32_t>& freed) {
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if (it->conversation != keep || keep == 0) {
      erase(it->conversation, freed);
      return true;
    }
  }
  return false;
}

}  // namespace bricks::kv_block_group
