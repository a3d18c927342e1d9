// The cuda_paged kernels, launched from host code on the step's stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "launch_plan.h"

namespace bricks_cuda_paged {

struct KernelArgs {
  const SeqInfo* seqs;  // device copies of the plan
  const Item* items;
  const Merge* merges;
  const int32_t* indices;  // the page table's indices
  const float* q;          // [rows][num_qo_heads][head_dim]
  const void* k_pool;      // [blocks][page_size][num_kv_heads][head_dim]
  const void* v_pool;
  float* out;          // [rows][num_qo_heads][head_dim]
  float* partial_o;    // [partial vectors][head_dim]
  float* partial_lse;  // [partial vectors]
  int32_t num_qo_heads;
  int32_t num_kv_heads;
  int32_t group;
  int32_t head_dim;
  int32_t page_size;
  int32_t causal;
  int32_t f16;  // 1: the pools are f16, 0: f32
  float sm_scale;
};

// Every item of the plan, then the merges of split items. Returns the launch's status.
cudaError_t launch_attention(const KernelArgs& args, int32_t num_items, int32_t num_merges,
                             cudaStream_t stream);

}  // namespace bricks_cuda_paged
