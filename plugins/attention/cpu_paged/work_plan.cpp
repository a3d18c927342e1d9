#include "work_plan.h"

#include <algorithm>
#include <string>

#include "bricks/error.hpp"

namespace bricks_cpu_paged {
namespace {

using bricks::Error;

// Auto chunks never go below this many keys: smaller ones cost more in merging than they
// gain in balance.
constexpr int32_t kMinAutoChunk = 256;
// Query vectors (rows x heads of one kv head) per tile: each K/V block loaded is reused
// this many times.
constexpr int32_t kTileVectors = 64;

std::string where(int32_t b) { return "attention cpu_paged: sequence " + std::to_string(b) + ": "; }

void check_shape(const bricks_attention_batch& b) {
  if (b.num_kv_heads < 1 || b.num_qo_heads < 1 || b.num_qo_heads % b.num_kv_heads != 0) {
    throw Error::invalid("attention cpu_paged: num_qo_heads (" + std::to_string(b.num_qo_heads) +
                         ") must be a positive multiple of num_kv_heads (" +
                         std::to_string(b.num_kv_heads) + ")");
  }
  if (b.head_dim < 1) throw Error::invalid("attention cpu_paged: head_dim must be >= 1");
  if (b.kv_dtype != BRICKS_DTYPE_F32 && b.kv_dtype != BRICKS_DTYPE_F16) {
    throw Error::unsupported("attention cpu_paged: KV dtype " + std::to_string(b.kv_dtype) +
                             " is not supported; use f32 or f16 pools");
  }
  const bricks_page_table& t = b.kv;
  if (t.batch < 0 || t.page_size < 1) {
    throw Error::invalid("attention cpu_paged: page table needs batch >= 0 and page_size >= 1");
  }
  if (t.batch > 0 && (b.qo_indptr == nullptr || t.indptr == nullptr || t.indices == nullptr ||
                      t.last_page_len == nullptr)) {
    throw Error::invalid("attention cpu_paged: qo_indptr and the page table arrays must be set");
  }
  if (t.batch > 0 && (b.qo_indptr[0] != 0 || t.indptr[0] != 0)) {
    throw Error::invalid("attention cpu_paged: qo_indptr[0] and indptr[0] must be 0");
  }
}

}  // namespace

WorkPlan build_work_plan(const bricks_attention_batch& b, int32_t kv_chunk_size, int32_t threads) {
  check_shape(b);
  const bricks_page_table& t = b.kv;
  const int32_t group = b.num_qo_heads / b.num_kv_heads;
  WorkPlan plan;
  plan.tile_rows = std::max(1, kTileVectors / group);
  plan.seqs.reserve(static_cast<size_t>(t.batch));
  for (int32_t s = 0; s < t.batch; ++s) {
    const int32_t pages = t.indptr[s + 1] - t.indptr[s];
    if (pages < 1) throw Error::invalid(where(s) + "has no pages; every sequence needs >= 1");
    if (t.last_page_len[s] < 1 || t.last_page_len[s] > t.page_size) {
      throw Error::invalid(where(s) + "last_page_len " + std::to_string(t.last_page_len[s]) +
                           " is outside [1, page_size=" + std::to_string(t.page_size) + "]");
    }
    const int64_t kv_len = int64_t{pages - 1} * t.page_size + t.last_page_len[s];
    const int32_t qo_len = b.qo_indptr[s + 1] - b.qo_indptr[s];
    if (qo_len < 0 || qo_len > kv_len) {
      throw Error::invalid(where(s) + "has " + std::to_string(qo_len) + " query rows but kv_len " +
                           std::to_string(kv_len) + "; rows must be in [0, kv_len]");
    }
    for (int32_t p = t.indptr[s]; p < t.indptr[s + 1]; ++p) {
      if (t.indices[p] < 0) throw Error::invalid(where(s) + "has a negative page id");
    }
    plan.seqs.push_back(
        SeqView{static_cast<int32_t>(kv_len), qo_len, b.qo_indptr[s], t.indptr[s], plan.total_kv});
    plan.total_kv += kv_len;
  }
  plan.total_rows = t.batch > 0 ? b.qo_indptr[t.batch] : 0;

  int64_t num_tiles = 0;
  for (const SeqView& s : plan.seqs) {
    num_tiles += int64_t{(s.qo_len + plan.tile_rows - 1) / plan.tile_rows} * b.num_kv_heads;
  }
  const int64_t wanted = 4 * int64_t{std::max(1, threads)};
  const int64_t pieces_per_tile = kv_chunk_size > 0 || num_tiles == 0 || num_tiles >= wanted
                                      ? 1
                                      : (wanted + num_tiles - 1) / num_tiles;

  for (int32_t s = 0; s < t.batch; ++s) {
    const SeqView& seq = plan.seqs[static_cast<size_t>(s)];
    for (int32_t r0 = 0; r0 < seq.qo_len; r0 += plan.tile_rows) {
      const int32_t r1 = std::min(seq.qo_len, r0 + plan.tile_rows);
      const int32_t keys = b.causal ? seq.kv_len - seq.qo_len + r1 : seq.kv_len;
      int32_t chunk = keys;
      if (kv_chunk_size > 0) {
        chunk = kv_chunk_size;
      } else if (pieces_per_tile > 1) {
        chunk = static_cast<int32_t>(
            std::max<int64_t>(kMinAutoChunk, (keys + pieces_per_tile - 1) / pieces_per_tile));
      }
      const int32_t num_chunks = (keys + chunk - 1) / chunk;
      for (int32_t h = 0; h < b.num_kv_heads; ++h) {
        if (num_chunks == 1) {
          plan.items.push_back(WorkItem{s, h, r0, r1, 0, keys, -1});
          continue;
        }
        plan.split.push_back(
            SplitTask{s, h, r0, r1, static_cast<int32_t>(plan.items.size()), num_chunks});
        for (int32_t c = 0; c < num_chunks; ++c) {
          plan.items.push_back(WorkItem{s, h, r0, r1, c * chunk, std::min(keys, (c + 1) * chunk),
                                        plan.partial_vectors});
          plan.partial_vectors += int64_t{r1 - r0} * group;
        }
      }
    }
  }
  return plan;
}

}  // namespace bricks_cpu_paged
