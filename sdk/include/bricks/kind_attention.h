/*
 * bricks/kind_attention.h: the attention kind.
 *
 * Attention over a paged KV cache for one step's batch, split as FlashInfer splits it:
 * `plan` runs once per step on the CPU from the page table and builds whatever the kernel
 * needs (work partition, tile sizes) inside the instance; `run` runs once per layer with
 * raw pointers only. The K/V of this step's new tokens are already written to the pool
 * when `run` is called.
 *
 * Capabilities a brick declares: devices ("device.cpu", "device.cuda"), KV dtypes
 * ("kv.f32", "kv.f16"), and "attention.scores" when it fills `scores` for pruners.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_ATTENTION_H
#define BRICKS_KIND_ATTENTION_H

#ifdef __cplusplus
extern "C" {
#endif

/* Element type of a KV pool. */
typedef enum bricks_dtype {
  BRICKS_DTYPE_F32 = 0,
  BRICKS_DTYPE_F16 = 1,
  BRICKS_DTYPE_BF16 = 2,
  BRICKS_DTYPE_Q8_0 = 3
} bricks_dtype;

/* The step's batch as `plan` sees it: host-owned, valid until the step's last `run`. */
typedef struct bricks_attention_batch {
  uint32_t struct_size;         /* sizeof(bricks_attention_batch) as the host saw it */
  /* Query rows of sequence b are qo_indptr[b] .. qo_indptr[b+1]; they are the sequence's
   * last (qo_indptr[b+1] - qo_indptr[b]) positions. A decode has one row. */
  const int32_t* qo_indptr;     /* [kv.batch + 1] */
  bricks_page_table kv;         /* kv lengths include this step's new tokens */
  int32_t num_qo_heads;
  int32_t num_kv_heads;         /* divides num_qo_heads (GQA) */
  int32_t head_dim;
  bricks_dtype kv_dtype;        /* element type of the K and V pools */
  float sm_scale;               /* usually 1/sqrt(head_dim) */
  int32_t causal;               /* 1: row i of a sequence sees keys up to its own position */
} bricks_attention_batch;

/* One layer's buffers for `run`: host-owned device memory (host memory on the cpu device),
 * valid for the call. */
typedef struct bricks_attention_io {
  uint32_t struct_size;         /* sizeof(bricks_attention_io) as the host saw it */
  const float* q;               /* [rows][num_qo_heads][head_dim], rows = qo_indptr[batch] */
  const void* k_pool;           /* [blocks][page_size][num_kv_heads][head_dim] of kv_dtype */
  const void* v_pool;           /* same layout as k_pool */
  float* out;                   /* [rows][num_qo_heads][head_dim] */
  /* (optional) With score_rows set, the brick also writes, for every sequence b and key
   * position j < kv_len(b), scores[kv_offset(b) + j] = sum over flagged rows of b of the
   * attention probability row -> j averaged over heads, where kv_offset(b) is the sum of
   * earlier sequences' kv_len. Both NULL when no pruner needs scores. */
  const uint8_t* score_rows;    /* [rows]: 1 marks a row whose attention is summed */
  float* scores;                /* [sum of kv_len] */
  /* (ABI 1.3) On device.cuda, the cudaStream_t the brick enqueues its work on, in order
   * after the host's writes of q and the pools; `run` may return before the work ends.
   * NULL on the cpu device (and from hosts before 1.3: read struct_size first). */
  void* stream;
} bricks_attention_io;

/* An attention brick. Called from the engine's step thread, one call at a time. */
typedef struct bricks_attention_vtable {
  BRICKS_VTABLE_HEADER;
  /* Called once per step before any run. The batch's arrays stay valid until the last
   * run of the step. Returns BRICKS_UNSUPPORTED for a shape or dtype it cannot do. */
  bricks_error* (*plan)(void* instance, const bricks_attention_batch* batch);
  /* Called once per layer of the step, for the last plan. May use threads inside;
   * is not called concurrently on one instance. */
  bricks_error* (*run)(void* instance, const bricks_attention_io* io);
} bricks_attention_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_ATTENTION_H */
