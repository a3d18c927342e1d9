/*
 * bricks/kind_experts.h: the two experts kinds, routers and mergers.
 *
 * A router picks, per token, which experts (MoE FFNs, or neuron clusters of a dense FFN)
 * run and with what weight. A merger combines several checkpoints of one architecture,
 * tensor by tensor, when the model loads.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_EXPERTS_H
#define BRICKS_KIND_EXPERTS_H

#ifdef __cplusplus
extern "C" {
#endif

/* One routed FFN layer of one step: host-owned, valid for the `route` call. */
typedef struct bricks_route_input {
  uint32_t struct_size;         /* sizeof(bricks_route_input) as the host saw it */
  int32_t layer;                /* 0-based layer of the routed FFN */
  int32_t num_tokens;           /* rows of the batch, >= 1 */
  int32_t hidden_dim;           /* the model's hidden width */
  const float* hidden;          /* [num_tokens][hidden_dim] the FFN's input */
  const float* gate_logits;     /* [num_tokens][num_experts] the model's gate, or NULL */
  int32_t num_experts;
  int32_t top_k;                /* experts to pick per token (the model's, or the brick's) */
} bricks_route_input;

/* Host-owned outputs, each [num_tokens][top_k]: expert ids (distinct per token) and their
 * weights, in descending weight order. */
typedef struct bricks_route_output {
  int32_t* expert_ids;
  float* weights;
} bricks_route_output;

/* A router brick. Called from the engine's step thread, one call at a time. */
typedef struct bricks_router_vtable {
  BRICKS_VTABLE_HEADER;
  /* Called for each routed FFN layer of each step: fills every row of `output` (host-owned,
   * [num_tokens][top_k] each) for the rows of `input`. */
  bricks_error* (*route)(void* instance, const bricks_route_input* input,
                         bricks_route_output* output);
} bricks_router_vtable;

/* One tensor of the checkpoints being merged: host-owned, valid for the `merge` call. */
typedef struct bricks_merge_tensor {
  uint32_t struct_size;         /* sizeof(bricks_merge_tensor) as the host saw it */
  const char* name;             /* the tensor's name in the model file, e.g. blk.0.ffn_up.weight */
  int64_t numel;                /* elements of the tensor in every checkpoint */
  const float* base;            /* [numel] the base model's tensor, or NULL when none is given */
  const float* const* inputs;   /* [num_inputs] each [numel]: the checkpoints to merge */
  int32_t num_inputs;           /* >= 1 */
  const float* weights;         /* [num_inputs] per-checkpoint weights from the manifest */
} bricks_merge_tensor;

/* A merger brick. Used while the model loads, before any step; `merge` is the one slot
 * that may run concurrently on one instance. */
typedef struct bricks_merger_vtable {
  BRICKS_VTABLE_HEADER;
  /* Writes the merged tensor into out[numel] and sets *out_merged = 1, or sets
   * *out_merged = 0 to leave this tensor alone (its filters exclude it): the host then
   * keeps inputs[0]. Called once per tensor, possibly from several threads at once. */
  bricks_error* (*merge)(void* instance, const bricks_merge_tensor* tensor, float* out,
                         int32_t* out_merged);
} bricks_merger_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_EXPERTS_H */
