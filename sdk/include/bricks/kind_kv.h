/*
 * bricks/kind_kv.h: the KV-cache manager kind.
 *
 * A kv brick owns block ids, never tensors: the engine's device owns the physical pool of
 * `num_device_blocks` blocks of `block_size` tokens (per layer, K and V) and, where tiers
 * exist, host and disk pools. The brick allocates and frees blocks per request, keeps a
 * prefix cache, plans swaps between tiers, and describes each step's batch as a CSR page
 * table plus a slot mapping for the new tokens.
 *
 * KV groups: layers between two pruning points see a different number of tokens, so each
 * group has its own tables. Group 0 is every layer before the first pruning point; the
 * scheduler reserves group 0 only, the engine reserves the other groups itself.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_KV_H
#define BRICKS_KIND_KV_H

#ifdef __cplusplus
extern "C" {
#endif

/* A pool of KV blocks; block ids are per tier. */
typedef enum bricks_tier {
  BRICKS_TIER_DEVICE = 0, /* the pool attention reads */
  BRICKS_TIER_HOST = 1,   /* host memory, for swapped requests */
  BRICKS_TIER_DISK = 2    /* files, below host */
} bricks_tier;

/* Told to the brick once by the engine, after create and before any other call. */
typedef struct bricks_kv_geometry {
  uint32_t struct_size;      /* sizeof(bricks_kv_geometry) as the host saw it */
  int32_t num_device_blocks; /* blocks in the device pool */
  int32_t num_host_blocks;   /* blocks in the host tier (0: no swap to host) */
  int32_t num_disk_blocks;   /* blocks in the disk tier (0: none) */
  int32_t num_groups;        /* KV groups, >= 1 */
  int64_t bytes_per_block;   /* K+V bytes of one block over all layers, for reports */
} bricks_kv_geometry;

/* Page table in CSR form (FlashInfer's layout). For sequence b of the batch:
 *   pages   = indices[indptr[b] .. indptr[b+1])         (physical block ids, in order)
 *   kv_len  = (indptr[b+1] - indptr[b] - 1) * page_size + last_page_len[b]
 * Token t of sequence b lives in block pages[t / page_size] at offset t % page_size.
 * A pool is laid out [num_blocks][page_size][num_kv_heads][head_dim] (NHD). */
typedef struct bricks_page_table {
  const int32_t* indptr;        /* [batch + 1], indptr[0] = 0 */
  const int32_t* indices;       /* [indptr[batch]] */
  const int32_t* last_page_len; /* [batch], each in [1, page_size] */
  int32_t batch;
  int32_t page_size;
} bricks_page_table;

/* One sequence of the step's batch as the engine asks for its table. */
typedef struct bricks_kv_seq {
  uint64_t request_id;
  int32_t kv_len;            /* tokens the sequence holds after this step's tokens */
  int32_t num_new;           /* the last num_new of them are computed this step */
} bricks_kv_seq;

/* A run of blocks to copy between tiers before the step computes. */
typedef struct bricks_block_copy {
  bricks_tier src_tier;
  int32_t src_block;
  bricks_tier dst_tier;
  int32_t dst_block;
  int32_t num_blocks;        /* contiguous run: src_block.. and dst_block.. */
} bricks_block_copy;

/* Counters for reports and for the scheduler's capacity decisions, filled by `stats`. */
typedef struct bricks_kv_stats {
  uint32_t struct_size;        /* set by the host before the call; write no further */
  int32_t num_device_blocks;
  int32_t free_device_blocks;  /* free, including cached-but-unreferenced blocks */
  int32_t num_host_blocks;
  int32_t free_host_blocks;
  int64_t prefix_query_tokens; /* tokens looked up in the prefix cache so far */
  int64_t prefix_hit_tokens;   /* of those, found */
  int64_t blocks_swapped_out;
  int64_t blocks_swapped_in;
  int64_t swap_copies;         /* block_copy runs issued; fewer and larger is better */
} bricks_kv_stats;

/* A kv brick. Called from the engine's step thread, one call at a time, by the engine and
 * by the scheduler it is wired to (through host->wired). Request views passed in are valid
 * for the call only. */
typedef struct bricks_kv_vtable {
  BRICKS_VTABLE_HEADER;
  /* Tokens per block, from the brick's params. Called before configure. */
  int32_t (*block_size)(void* instance);
  /* Sizes the pools. Called once, before any call below. */
  bricks_error* (*configure)(void* instance, const bricks_kv_geometry* geometry);
  /* Leading tokens of `r` already in the prefix cache, for a request that holds no blocks
   * in `group`: a multiple of block_size, at most r->num_tokens - 1 (the last token is
   * always computed so it can be sampled from). Changes nothing. */
  int32_t (*lookup_prefix)(void* instance, const bricks_request_view* r, int32_t group);
  /* Makes room in `group` for the request to hold num_computed + num_cached + num_new
   * tokens, first taking the `num_cached` prefix tokens lookup_prefix found. Sets *out_ok
   * to 1 on success; to 0 when free blocks do not suffice, changing nothing: the scheduler
   * then preempts or waits. An error is for misuse only. */
  bricks_error* (*allocate)(void* instance, const bricks_request_view* r, int32_t group,
                            int32_t num_cached, int32_t num_new, int32_t* out_ok);
  /* Tells that r->num_computed tokens of r->tokens are now in the cache: full blocks may
   * enter the prefix cache. Called by the engine after each step for each item. */
  void (*commit)(void* instance, const bricks_request_view* r, int32_t group);
  /* Frees every block of the request in every group and tier (cached full blocks stay in
   * the prefix cache until evicted). Unknown ids are ignored. */
  void (*release)(void* instance, uint64_t request_id);
  /* Page table for `seqs` in order, plus the slot (block * block_size + offset) of each
   * sequence's new tokens, concatenated, into out_slots[sum of num_new] (engine-owned).
   * The table's arrays are the brick's, valid until its next build_page_table or release;
   * every sequence holds blocks for kv_len tokens in `group` (allocate ran). */
  bricks_error* (*build_page_table)(void* instance, int32_t group, const bricks_kv_seq* seqs,
                                    int32_t num_seqs, bricks_page_table* out_table,
                                    int32_t* out_slots);
  /* Fills the counters; may be called between any two other calls. */
  void (*stats)(void* instance, bricks_kv_stats* out);
  /* (optional, capability "kv.swap") Moves a running request's device blocks to the host
   * tier; *out_ok = 0 if the host tier is full, changing nothing. The copies are queued
   * for take_copies. */
  bricks_error* (*swap_out)(void* instance, uint64_t request_id, int32_t* out_ok);
  /* (optional, with swap_out) Moves a swapped request's blocks back to the device tier;
   * *out_ok = 0 if the device is full, changing nothing. Queued like swap_out. */
  bricks_error* (*swap_in)(void* instance, uint64_t request_id, int32_t* out_ok);
  /* (optional, with swap_out) The block copies queued since the last call, in the order
   * the device must run them, as a count and *out_copies (the brick's array, valid until
   * its next call); the engine runs them before the step's compute. */
  int32_t (*take_copies)(void* instance, const bricks_block_copy** out_copies);
} bricks_kv_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_KV_H */
