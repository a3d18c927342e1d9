#include "launch_plan.h"

#include <algorithm>
#include <string>

#include "bricks/attention_checks.hpp"
#include "bricks/error.hpp"

namespace bricks_cuda_paged {

LaunchPlan build_launch_plan(const bricks_attention_batch& b, int32_t num_sms,
                             int32_t kv_chunk_size) {
  bricks::check_attention_batch(b, "cuda_paged");
  if (b.head_dim > kMaxHeadDim) {
    throw bricks::Error::unsupported("attention cuda_paged: head_dim " +
                                     std::to_string(b.head_dim) + " is over " +
                                     std::to_string(kMaxHeadDim));
  }
  const bricks_page_table& t = b.kv;
  LaunchPlan plan;
  plan.group = b.num_qo_heads / b.num_kv_heads;
  plan.seqs.reserve(static_cast<size_t>(t.batch));
  for (int32_t s = 0; s < t.batch; ++s) {
    const int32_t qo_len = b.qo_indptr[s + 1] - b.qo_indptr[s];
    plan.seqs.push_back(SeqInfo{b.qo_indptr[s], qo_len,
                                static_cast<int32_t>(bricks::kv_length(t, s)), t.indptr[s]});
  }
  plan.total_rows = t.batch > 0 ? b.qo_indptr[t.batch] : 0;
  plan.num_indices = t.batch > 0 ? t.indptr[t.batch] : 0;

  const int32_t group = plan.group;
  int64_t num_tiles = 0;
  for (const SeqInfo& s : plan.seqs) {
    const int64_t vectors = int64_t{s.qo_len} * group;
    num_tiles += (vectors + kTileVectors - 1) / kTileVectors * b.num_kv_heads;
  }
  const int64_t wanted = 2 * int64_t{std::max(1, num_sms)};
  const int64_t pieces = kv_chunk_size > 0 || num_tiles == 0 || num_tiles >= wanted
                             ? 1
                             : (wanted + num_tiles - 1) / num_tiles;

  for (int32_t s = 0; s < t.batch; ++s) {
    const SeqInfo& seq = plan.seqs[static_cast<size_t>(s)];
    const int32_t vectors = seq.qo_len * group;
    for (int32_t v0 = 0; v0 < vectors; v0 += kTileVectors) {
      const int32_t v1 = std::min(vectors, v0 + kTileVectors);
      // The tile's last row sees the most keys.
      const int32_t last_row = (v1 - 1) / group;
      const int32_t keys = b.causal ? seq.kv_len - seq.qo_len + last_row + 1 : seq.kv_len;
      int32_t chunk = keys;
      if (kv_chunk_size > 0) {
        chunk = kv_chunk_size;
      } else if (pieces > 1) {
        // Multiples of 32: a block takes its keys 32 at a time.
        const int64_t even = (keys + pieces - 1) / pieces;
        chunk = static_cast<int32_t>(std::max<int64_t>(kMinSplitKeys, (even + 31) / 32 * 32));
      }
      chunk = std::max(chunk, 1);
      const int32_t num_chunks = (keys + chunk - 1) / chunk;
      for (int32_t h = 0; h < b.num_kv_heads; ++h) {
        if (num_chunks <= 1) {
          plan.items.push_back(Item{s, h, v0, v1, 0, keys, -1, 0});
          continue;
        }
        plan.merges.push_back(
            Merge{s, h, v0, v1, static_cast<int32_t>(plan.partial_vectors), num_chunks});
        for (int32_t c = 0; c < num_chunks; ++c) {
          plan.items.push_back(Item{s, h, v0, v1, c * chunk, std::min(keys, (c + 1) * chunk),
                                    static_cast<int32_t>(plan.partial_vectors), 0});
          plan.partial_vectors += v1 - v0;
        }
      }
    }
  }
  if (plan.partial_vectors > INT32_MAX) {
    throw bricks::Error::exhausted("attention cuda_paged: the batch needs " +
                                   std::to_string(plan.partial_vectors) +
                                   " partial results; give a larger kv_chunk_size");
  }
  return plan;
}

}  // namespace bricks_cuda_paged
