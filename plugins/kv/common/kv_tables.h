// What every paged kv brick does the same way: the page table of a step (FlashInfer's CSR
// layout) from each request's block list, and the queue of block copies that merges
// consecutive blocks into one run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"

namespace bricks::kvc {

// Blocks that hold `tokens` tokens.
inline int32_t blocks_for(int64_t tokens, int32_t block_size) {
  return static_cast<int32_t>((tokens + block_size - 1) / block_size);
}

// The arrays a page table points into; they stay valid until the next fill.
struct TableBuffers {
  std::vector<int32_t> indptr, indices, last_page_len;
};

// Fills `table` (pointing into `buf`) for `seqs`, and `slots` (when not null) with the
// slot of every new token. `blocks_of(seq)` gives the request's device blocks of `group`
// and throws when it holds none. `brick` ("kv/paged") names the brick in errors.
template <class BlocksOf>
void fill_page_table(const char* brick, int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                     int32_t block_size, const BlocksOf& blocks_of, TableBuffers& buf,
                     bricks_page_table& table, int32_t* slots) {
  if (num_seqs < 0 || (num_seqs > 0 && seqs == nullptr)) {
    throw Error::invalid(std::string(brick) +
                         ": build_page_table needs num_seqs >= 0 and seqs non-null");
  }
  buf.indptr.assign(1, 0);
  buf.indices.clear();
  buf.last_page_len.clear();
  int32_t slot = 0;
  for (int32_t s = 0; s < num_seqs; ++s) {
    const bricks_kv_seq& seq = seqs[s];
    const std::vector<int32_t>& blocks = blocks_of(seq);
    const int64_t capacity = static_cast<int64_t>(blocks.size()) * block_size;
    if (seq.kv_len < 1 || seq.kv_len > capacity || seq.num_new < 0 || seq.num_new > seq.kv_len) {
      throw Error::invalid(std::string(brick) + ": request " + std::to_string(seq.request_id) +
                           ": kv_len " + std::to_string(seq.kv_len) + " / num_new " +
                           std::to_string(seq.num_new) + " do not fit the " +
                           std::to_string(capacity) + " allocated tokens of group " +
                           std::to_string(group));
    }
    const int32_t pages = blocks_for(seq.kv_len, block_size);
    buf.indices.insert(buf.indices.end(), blocks.begin(), blocks.begin() + pages);
    buf.indptr.push_back(static_cast<int32_t>(buf.indices.size()));
    buf.last_page_len.push_back(seq.kv_len - (pages - 1) * block_size);
    if (slots != nullptr) {
      for (int32_t t = seq.kv_len - seq.num_new; t < seq.kv_len; ++t) {
        slots[slot++] = blocks[static_cast<size_t>(t / block_size)] * block_size + t % block_size;
      }
    }
  }
  table.indptr = buf.indptr.data();
  table.indices = buf.indices.data();
  table.last_page_len = buf.last_page_len.data();
  table.batch = num_seqs;
  table.page_size = block_size;
}

// Queues the copies src[i] -> dst[i] for i in [begin, end), extending the last queued run
// where both sides continue it. Returns how many runs were added.
inline int64_t queue_block_copies(std::vector<bricks_block_copy>& queued, bricks_tier src_tier,
                                  const std::vector<int32_t>& src, bricks_tier dst_tier,
                                  const std::vector<int32_t>& dst, size_t begin, size_t end) {
  int64_t added = 0;
  for (size_t i = begin; i < end; ++i) {
    if (!queued.empty()) {
      bricks_block_copy& run = queued.back();
      if (run.src_tier == src_tier && run.dst_tier == dst_tier &&
          run.src_block + run.num_blocks == src[i] && run.dst_block + run.num_blocks == dst[i]) {
        ++run.num_blocks;
        continue;
      }
    }
    queued.push_back(bricks_block_copy{src_tier, src[i], dst_tier, dst[i], 1});
    ++added;
  }
  return added;
}

}  // namespace bricks::kvc
