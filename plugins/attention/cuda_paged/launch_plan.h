// How cuda_paged splits one step's attention into thread blocks, built by plan() on the
// host from the page table alone and uploaded at the step's first run(). Plain C++, so the
// partition is tested on machines without a GPU.
//
// A work item is one thread block: a tile of at most kTileVectors query vectors of one
// sequence that share a kv head (vector v = row * group + head within the group), over a
// range of keys. A long sequence whose tiles are too few to fill the GPU has its keys split
// over several items (split-KV, "flash decoding"); each writes a partial output and its
// log-sum-exp, and a merge task combines them.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/abi.h"

namespace bricks_cuda_paged {

// Query vectors per thread block (4 warps of 4 vectors each).
constexpr int32_t kTileVectors = 16;
// Keys per split never go below this (smaller pieces cost more to merge than they gain).
constexpr int32_t kMinSplitKeys = 256;

struct SeqInfo {
  int32_t row0;    // the sequence's first query row in the batch
  int32_t qo_len;  // its query rows
  int32_t kv_len;  // its keys, this step's included
  int32_t page0;   // its first entry in the page table's indices
};

// Vectors [vec_begin, vec_end) of sequence `seq` under `kv_head`, keys [key_begin,
// key_end). partial < 0: writes the output; else the partial result of vector v goes to
// slot partial + (v - vec_begin).
struct Item {
  int32_t seq;
  int32_t kv_head;
  int32_t vec_begin;
  int32_t vec_end;
  int32_t key_begin;
  int32_t key_end;
  int32_t partial;
  int32_t pad_;
};

// The split items first_partial .. of a tile: num_splits of them, each with
// (vec_end - vec_begin) slots in order.
struct Merge {
  int32_t seq;
  int32_t kv_head;
  int32_t vec_begin;
  int32_t vec_end;
  int32_t first_partial;
  int32_t num_splits;
};

struct LaunchPlan {
  std::vector<SeqInfo> seqs;
  std::vector<Item> items;
  std::vector<Merge> merges;
  int32_t group = 1;            // query heads per kv head
  int64_t partial_vectors = 0;  // slots of partial results
  int64_t total_rows = 0;       // qo_indptr[batch]
  int64_t num_indices = 0;      // page table entries the batch uses
};

// Checks the batch (throws bricks::Error naming the sequence and the field; head dims over
// kMaxHeadDim are BRICKS_UNSUPPORTED) and partitions it. kv_chunk_size > 0 splits every
// tile's keys into pieces of that many; 0 splits only when the tiles are fewer than two per
// multiprocessor, into pieces of at least kMinSplitKeys.
LaunchPlan build_launch_plan(const bricks_attention_batch& batch, int32_t num_sms,
                             int32_t kv_chunk_size);

constexpr int32_t kMaxHeadDim = 256;

}  // namespace bricks_cuda_paged
