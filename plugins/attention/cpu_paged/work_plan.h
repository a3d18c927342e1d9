// How cpu_paged splits one step's attention into independent work items, built by plan()
// from the page table alone.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/abi.h"
#include "kernels.h"

namespace bricks_cpu_paged {

// Rows [row_begin, row_end) of sequence `seq` (relative to its first row), every query
// head of kv heads kv_head .. kv_head + kv_heads - 1, over keys [key_begin, key_end). An item
// of a split task writes a partial result at `partial` (in query vectors: o at partial *
// head_dim, lse at partial); otherwise partial = -1 and it writes the output directly. Items
// of several kv heads (KernelSet::attend_heads) hold one row of a model without grouped
// queries: a decode step.
struct WorkItem {
  int32_t seq;
  int32_t kv_head;
  int32_t kv_heads;
  int32_t row_begin;
  int32_t row_end;
  int32_t key_begin;
  int32_t key_end;
  int64_t partial;
};

// A (sequence, kv heads, row tile) whose keys were split over items first_item ..
// first_item + num_items - 1; their partial results are merged by log-sum-exp.
struct SplitTask {
  int32_t seq;
  int32_t kv_head;
  int32_t kv_heads;
  int32_t row_begin;
  int32_t row_end;
  int32_t first_item;
  int32_t num_items;
};

struct WorkPlan {
  std::vector<SeqView> seqs;
  std::vector<WorkItem> items;
  std::vector<SplitTask> split;
  int64_t partial_vectors = 0;  // query vectors of partial results over all split items
  int64_t total_rows = 0;       // qo_indptr[batch]
  int64_t total_kv = 0;         // sum of kv_len
  int32_t tile_rows = 1;
  int32_t step_heads = 1;  // the most kv heads of an item
};

// Checks the batch (throws bricks::Error naming the sequence and the field) and builds the
// items. kv_chunk_size > 0 splits every tile's keys into chunks of that many; 0 splits only
// when there are fewer than 4 tiles per thread, so a small decode batch keeps every thread
// busy.
WorkPlan build_work_plan(const bricks_attention_batch& batch, int32_t kv_chunk_size,
                         int32_t threads);

}  // namespace bricks_cpu_paged
