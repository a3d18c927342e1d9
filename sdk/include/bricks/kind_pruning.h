/*
 * bricks/kind_pruning.h: the token pruning kind.
 *
 * A pruner is attached after configured layers (the manifest says which). After such a
 * layer the engine asks it, per request in prefill, which tokens to keep; later layers see
 * only the kept tokens and form their own KV group. The pruner decides; the engine compacts.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_PRUNING_H
#define BRICKS_KIND_PRUNING_H

#ifdef __cplusplus
extern "C" {
#endif

/* One request after one pruning layer: host-owned, valid for the `select` call. */
typedef struct bricks_prune_input {
  uint32_t struct_size;         /* sizeof(bricks_prune_input) as the host saw it */
  uint64_t request_id;
  int32_t layer;                /* the layer just computed (0-based) */
  int32_t num_layers;           /* layers in the model */
  int32_t num_tokens;           /* the request's tokens visible at this layer */
  const uint8_t* prunable;      /* [num_tokens] 1: may be dropped (e.g. an image patch) */
  const int32_t* grid_xy;       /* [num_tokens][2] patch column,row; -1,-1 for text */
  int32_t grid_w, grid_h;       /* the patch grid of the request's image; 0 when none */
  /* [num_tokens] attention each token received from the text query rows (the tokens
   * after the last prunable one), head-mean, summed over those rows. */
  const float* text_scores;
  /* (optional) [num_prunable][num_prunable] attention among prunable tokens, head-mean,
   * in their order of appearance; NULL when the engine does not provide it. */
  const float* self_scores;
  const float* hidden;          /* [num_tokens][hidden_dim] output of the layer */
  int32_t hidden_dim;           /* the model's hidden width */
} bricks_prune_input;

/* Indices into [0, num_tokens), ascending, owned by the pruner until its next call. Every
 * non-prunable token must be kept. */
typedef struct bricks_keep_set {
  const int32_t* keep;          /* [num_keep] */
  int32_t num_keep;             /* >= the number of non-prunable tokens */
} bricks_keep_set;

/* A pruning brick. Called from the engine's step thread, one call at a time. */
typedef struct bricks_pruning_vtable {
  BRICKS_VTABLE_HEADER;
  /* 1 if the pruner acts after `layer` of a model with num_layers layers. Asked for each
   * layer when the engine is set up, unless the manifest lists the brick's layers. */
  int32_t (*prunes_after)(void* instance, int32_t layer, int32_t num_layers);
  /* Called after each layer prunes_after accepted, once per request in prefill, with the
   * tokens visible there; fills *out_keep (see bricks_keep_set). */
  bricks_error* (*select)(void* instance, const bricks_prune_input* input,
                          bricks_keep_set* out_keep);
} bricks_pruning_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_PRUNING_H */
