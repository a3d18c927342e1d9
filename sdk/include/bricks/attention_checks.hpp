// bricks/attention_checks.hpp: the checks every attention brick's plan() owes its caller.
//
// check_attention_batch throws bricks::Error (caught at the C boundary and returned as a
// bricks_error*) for a batch whose shapes, dtypes or page table cannot be read safely; the
// message names the brick and, where it applies, the sequence.
#pragma once

#include <cstdint>
#include <string>

#include "bricks/abi.h"
#include "bricks/error.hpp"

namespace bricks {

// Tokens held by sequence s of a checked page table.
inline int64_t kv_length(const bricks_page_table& t, int32_t s) {
  return int64_t{t.indptr[s + 1] - t.indptr[s] - 1} * t.page_size + t.last_page_len[s];
}

// Accepts f32 and f16 KV pools; `brick` is the brick's name as it appears in messages.
inline void check_attention_batch(const bricks_attention_batch& b, const std::string& brick) {
  const std::string who = "attention " + brick + ": ";
  if (b.num_kv_heads < 1 || b.num_qo_heads < 1 || b.num_qo_heads % b.num_kv_heads != 0) {
    throw Error::invalid(who + "num_qo_heads (" + std::to_string(b.num_qo_heads) +
                         ") must be a positive multiple of num_kv_heads (" +
                         std::to_string(b.num_kv_heads) + ")");
  }
  if (b.head_dim < 1) throw Error::invalid(who + "head_dim must be >= 1");
  if (b.kv_dtype != BRICKS_DTYPE_F32 && b.kv_dtype != BRICKS_DTYPE_F16) {
    throw Error::unsupported(who + "KV dtype " + std::to_string(b.kv_dtype) +
                             " is not supported; use f32 or f16 pools");
  }
  const bricks_page_table& t = b.kv;
  if (t.batch < 0 || t.page_size < 1) {
    throw Error::invalid(who + "page table needs batch >= 0 and page_size >= 1");
  }
  if (t.batch > 0 && (b.qo_indptr == nullptr || t.indptr == nullptr || t.indices == nullptr ||
                      t.last_page_len == nullptr)) {
    throw Error::invalid(who + "qo_indptr and the page table arrays must be set");
  }
  if (t.batch > 0 && (b.qo_indptr[0] != 0 || t.indptr[0] != 0)) {
    throw Error::invalid(who + "qo_indptr[0] and indptr[0] must be 0");
  }
  for (int32_t s = 0; s < t.batch; ++s) {
    const std::string where = who + "sequence " + std::to_string(s) + ": ";
    const int32_t pages = t.indptr[s + 1] - t.indptr[s];
    if (pages < 1) throw Error::invalid(where + "has no pages; every sequence needs >= 1");
    if (t.last_page_len[s] < 1 || t.last_page_len[s] > t.page_size) {
      throw Error::invalid(where + "last_page_len " + std::to_string(t.last_page_len[s]) +
                           " is outside [1, page_size=" + std::to_string(t.page_size) + "]");
    }
    const int64_t kv_len = kv_length(t, s);
    const int32_t qo_len = b.qo_indptr[s + 1] - b.qo_indptr[s];
    if (qo_len < 0 || qo_len > kv_len) {
      throw Error::invalid(where + "has " + std::to_string(qo_len) + " query rows but kv_len " +
                           std::to_string(kv_len) + "; rows must be in [0, kv_len]");
    }
    for (int32_t p = t.indptr[s]; p < t.indptr[s + 1]; ++p) {
      if (t.indices[p] < 0) throw Error::invalid(where + "has a negative page id");
    }
  }
}

}  // namespace bricks
