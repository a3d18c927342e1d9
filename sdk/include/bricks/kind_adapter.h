/*
 * bricks/kind_adapter.h: the adapter kind, low-rank adapters (LoRA) attached per request.
 *
 * One base model serves many fine-tunes at once: each request may name an adapter, and
 * every dense projection y = W x of the base model becomes y = W x + scale * B (A x) for
 * the rows of that request (S-LoRA, Punica). The host computes W x for the whole batch;
 * the brick adds the low-rank updates, grouping the rows of each adapter so that an
 * adapter present in the batch costs one pair of small GEMMs, whatever its row count.
 *
 * Lifecycle, as the host drives it:
 *   create -> configure(base shape) -> load(path) once per adapter -> apply(...) for every
 *   projection of every step -> destroy.
 *
 * Layout of the host's projections (the same for every format the brick reads): a weight W
 * of projection p is [out_dim][in_dim], row-major; x rows are [in_dim], y rows [out_dim].
 * The rows of q and k are in the adjacent-pair RoPE layout (pairs (2i, 2i+1) of a head
 * rotate together, as GGUF stores them). A brick that reads Hugging Face (PEFT) weights,
 * whose q/k rows are in the rotate-half layout (i pairs with i + head_dim/2), permutes the
 * rows of lora_B for q and k into the host's layout, as the host's model loader does.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_ADAPTER_H
#define BRICKS_KIND_ADAPTER_H

#ifdef __cplusplus
extern "C" {
#endif

/* The dense projections of a Llama-family layer, named as GGUF names their tensors. */
typedef enum bricks_proj {
  BRICKS_PROJ_Q = 0,    /* attn_q:      hidden -> num_heads * head_dim */
  BRICKS_PROJ_K = 1,    /* attn_k:      hidden -> num_kv_heads * head_dim */
  BRICKS_PROJ_V = 2,    /* attn_v:      hidden -> num_kv_heads * head_dim */
  BRICKS_PROJ_O = 3,    /* attn_output: num_heads * head_dim -> hidden */
  BRICKS_PROJ_GATE = 4, /* ffn_gate:    hidden -> ffn */
  BRICKS_PROJ_UP = 5,   /* ffn_up:      hidden -> ffn */
  BRICKS_PROJ_DOWN = 6, /* ffn_down:    ffn -> hidden */
  BRICKS_PROJ_COUNT_ = 7
} bricks_proj;

/* The base model's shape; adapters that do not fit it are refused at load. */
typedef struct bricks_adapter_base {
  uint32_t struct_size;         /* sizeof(bricks_adapter_base) as the host saw it */
  int32_t num_layers;
  int32_t hidden_dim;
  int32_t num_heads;
  int32_t num_kv_heads;
  int32_t head_dim;
  int32_t ffn_dim;
} bricks_adapter_base;

/* What a loaded adapter holds. Strings stay valid until the adapter is unloaded or the
 * instance destroyed. */
typedef struct bricks_adapter_info {
  uint32_t struct_size;         /* set by the host before `info`; write no further */
  const char* format;   /* the file format read: "peft" (safetensors dir) or "gguf" */
  int32_t rank;         /* the largest rank over its tensors */
  float alpha;          /* the file's alpha (lora_alpha, adapter.lora.alpha) */
  float scale;          /* the factor applied to B A: alpha / rank times the load scale */
  uint32_t targets;     /* bit (1u << p) set: it changes projection p (bricks_proj) */
  int32_t num_layers;   /* layers in which it changes at least one projection */
  int64_t num_params;   /* values in all its A and B matrices */
} bricks_adapter_info;

/* One projection of one step. Rows are grouped in segments (a request's rows are
 * contiguous); segment s is rows seg_indptr[s] .. seg_indptr[s+1] - 1 and uses adapter
 * seg_adapter[s], a handle from `load`, or -1 for none (those rows are left untouched).
 * Several segments may name the same adapter; the brick groups them. */
typedef struct bricks_adapter_apply {
  uint32_t struct_size;       /* sizeof(bricks_adapter_apply) as the host saw it */
  int32_t layer;              /* 0-based */
  int32_t proj;               /* a bricks_proj */
  int32_t in_dim;             /* columns of x */
  int32_t out_dim;            /* columns of y */
  int32_t num_rows;
  const float* x;             /* [num_rows][in_dim] the projection's input */
  float* y;                   /* [num_rows][out_dim] W x on entry; W x + updates on return */
  const int32_t* seg_indptr;  /* [num_segments + 1]: 0, ..., num_rows, non-decreasing */
  const int32_t* seg_adapter; /* [num_segments] */
  int32_t num_segments;
} bricks_adapter_apply;

/* An adapter brick. configure and load run while the engine is set up; apply from the
 * engine's step thread; one call at a time. Arguments are host-owned, valid for the call. */
typedef struct bricks_adapter_vtable {
  BRICKS_VTABLE_HEADER;
  /* Called once, before any load: the shape of the base model the adapters attach to. */
  bricks_error* (*configure)(void* instance, const bricks_adapter_base* base);
  /* Loads the adapter at `path`: a PEFT directory (adapter_config.json and
   * adapter_model.safetensors) or a GGUF LoRA file (general.type "adapter", adapter.type
   * "lora"). `scale` multiplies the file's alpha / rank (1 = as trained). Writes a handle
   * >= 0. An error names the file and, where it applies, the tensor and the fix. */
  bricks_error* (*load)(void* instance, const char* path, float scale, int32_t* out_handle);
  /* Describes a loaded adapter. */
  bricks_error* (*info)(void* instance, int32_t handle, bricks_adapter_info* out);
  /* Adds scale * B (A x) to the rows of `batch` that use an adapter changing
   * (batch->layer, batch->proj). Never touches rows with adapter -1 or the rows of an
   * adapter that leaves this projection alone. */
  bricks_error* (*apply)(void* instance, const bricks_adapter_apply* batch);
  /* (optional, may be NULL) Frees an adapter; its handle is not valid afterwards. */
  bricks_error* (*unload)(void* instance, int32_t handle);
} bricks_adapter_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_ADAPTER_H */
