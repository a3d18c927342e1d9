// Seeded random paged-attention batches for the attention conformance suite: a batch, its
// page table over randomly permuted (non-contiguous) block ids, pools, queries and
// score-row flags, all owned here so the bricks see stable pointers.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/abi.h"

namespace bricks::testing {

struct BatchShape {
  int32_t num_kv_heads = 2;
  int32_t group = 1;  // num_qo_heads / num_kv_heads
  int32_t head_dim = 64;
  int32_t page_size = 16;
  bool f16 = false;
  bool causal = true;
  bool with_scores = false;
};

// One sequence: kv_len tokens, of which the last qo_len are this step's query rows.
struct SeqShape {
  int32_t kv_len;
  int32_t qo_len;
};

class PagedBatch {
 public:
  PagedBatch(const BatchShape& shape, const std::vector<SeqShape>& seqs, uint64_t seed);

  const bricks_attention_batch& batch() const { return batch_; }
  // io with `out` and `scores` pointing at the given buffers (scores only if with_scores).
  bricks_attention_io io(std::vector<float>& out, std::vector<float>& scores) const;
  int64_t rows() const { return qo_indptr_.back(); }
  int64_t out_size() const { return rows() * batch_.num_qo_heads * batch_.head_dim; }
  int64_t score_size() const { return total_kv_; }
  // Bytes of each of the K and V pools.
  size_t pool_bytes() const { return f16_ ? k_f16_.size() * 2 : k_f32_.size() * 4; }
  size_t q_size() const { return q_.size(); }

 private:
  bricks_attention_batch batch_{};
  std::vector<int32_t> qo_indptr_, indptr_, indices_, last_page_len_;
  std::vector<float> q_, k_f32_, v_f32_;
  std::vector<uint16_t> k_f16_, v_f16_;
  std::vector<uint8_t> score_rows_;
  int64_t total_kv_ = 0;
  bool f16_ = false;
  bool with_scores_ = false;
};

// The mixed batch most cases use: a kv_len = 1 decode, a whole-prompt prefill, a long
// decode, a chunked prefill (qo_len < kv_len) and a decode that ends exactly on a page
// boundary; lengths drawn from `seed`.
std::vector<SeqShape> mixed_sequences(int32_t page_size, uint64_t seed);

}  // namespace bricks::testing
