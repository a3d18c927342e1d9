#include "work_plan.h"

#include <algorithm>
#include <string>

#include "bricks/attention_checks.hpp"
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

}  // namespace

WorkPlan build_work_plan(const bricks_attention_batch& b, int32_t kv_chunk_size, int32_t threads) {
  bricks::check_attention_batch(b, "cpu_paged");
  const bricks_page_table& t = b.kv;
  const int32_t group = b.num_qo_heads / b.num_kv_heads;
  WorkPlan plan;
  plan.tile_rows = std::max(1, kTileVectors / group);
  plan.seqs.reserve(static_cast<size_t>(t.batch));
  for (int32_t s = 0; s < t.batch; ++s) {
    const int64_t kv_len = bricks::kv_length(t, s);
    const int32_t qo_len = b.qo_indptr[s + 1] - b.qo_indptr[s];
    plan.seqs.push_back(
        SeqView{static_cast<int32_t>(kv_len), qo_len, b.qo_indptr[s], t.indptr[s], plan.total_kv});
    plan.total_kv += kv_len;
  }
  plan.total_rows = t.batch > 0 ? b.qo_indptr[t.batch] : 0;

  // A one-row tile of a model without grouped queries (a decode step) is one item over all
  // kv heads, which the kernels walk in step (KernelSet::attend_heads).
  auto heads_of = [&](int32_t rows) { return group == 1 && rows == 1 ? b.num_kv_heads : 1; };
  int64_t num_tiles = 0;
  for (const SeqView& s : plan.seqs) {
    const int32_t full = s.qo_len / plan.tile_rows, rest = s.qo_len % plan.tile_rows;
    num_tiles += int64_t{full} * (b.num_kv_heads / heads_of(plan.tile_rows));
    if (rest > 0) num_tiles += b.num_kv_heads / heads_of(rest);
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
      // Heads in step split into groups where the keys give fewer chunks than wanted.
      int32_t heads = heads_of(r1 - r0);
      if (heads > 1 && pieces_per_tile > num_chunks) {
        const int64_t groups =
            std::min<int64_t>(heads, (pieces_per_tile + num_chunks - 1) / num_chunks);
        heads = static_cast<int32_t>((heads + groups - 1) / groups);
      }
      plan.step_heads = std::max(plan.step_heads, heads);
      for (int32_t h = 0; h < b.num_kv_heads; h += heads) {
        const int32_t n = std::min(heads, b.num_kv_heads - h);
        if (num_chunks == 1) {
          plan.items.push_back(WorkItem{s, h, n, r0, r1, 0, keys, -1});
          continue;
        }
        plan.split.push_back(
            SplitTask{s, h, n, r0, r1, static_cast<int32_t>(plan.items.size()), num_chunks});
        for (int32_t c = 0; c < num_chunks; ++c) {
          plan.items.push_back(WorkItem{s, h, n, r0, r1, c * chunk, std::min(keys, (c + 1) * chunk),
                                        plan.partial_vectors});
          plan.partial_vectors += int64_t{r1 - r0} * group * n;
        }
      }
    }
  }
  return plan;
}

}  // namespace bricks_cpu_paged
