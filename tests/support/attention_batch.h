// An attention batch over a page table whose pages are 0, 1, 2, ... in order, and a check of
// the key ranges that compute one query vector, for the tests of the attention bricks'
// host-side plans.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "bricks/abi.h"

namespace bricks::testing {

struct AttentionBatch {
  std::vector<int32_t> qo_indptr{0}, indptr{0}, indices, last;
  bricks_attention_batch b{};

  // seqs: (kv_len, qo_len) of each sequence.
  AttentionBatch(const std::vector<std::pair<int32_t, int32_t>>& seqs, int32_t qo_heads,
                 int32_t kv_heads, int32_t page = 16, int32_t causal = 1) {
    for (auto [kv_len, qo_len] : seqs) {
      const int32_t pages = (kv_len + page - 1) / page;
      for (int32_t p = 0; p < pages; ++p) indices.push_back(static_cast<int32_t>(indices.size()));
      indptr.push_back(indptr.back() + pages);
      last.push_back(kv_len - (pages - 1) * page);
      qo_indptr.push_back(qo_indptr.back() + qo_len);
    }
    b.struct_size = sizeof(b);
    b.qo_indptr = qo_indptr.data();
    b.kv = {indptr.data(), indices.data(), last.data(), static_cast<int32_t>(seqs.size()), page};
    b.num_qo_heads = qo_heads;
    b.num_kv_heads = kv_heads;
    b.head_dim = 128;
    b.kv_dtype = BRICKS_DTYPE_F16;
    b.sm_scale = 0.088f;
    b.causal = causal;
  }
};

// Expects `pieces` in order, back to back from key 0, to at least the row's last visible key
// (`seen` keys) and no further than the sequence's `kv_len`.
inline void expect_keys_back_to_back(const std::vector<std::pair<int, int>>& pieces, int seen,
                                     int kv_len) {
  int next = 0;
  for (auto [k0, k1] : pieces) {
    EXPECT_EQ(k0, next);
    next = k1;
  }
  EXPECT_GE(next, seen);
  EXPECT_LE(next, kv_len);
}

}  // namespace bricks::testing
