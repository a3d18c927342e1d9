/*
 * bricks/kind_scheduler.h: the scheduler kind.
 *
 * Once per engine step the host hands the scheduler a view of every live request (waiting,
 * running or swapped, in arrival order). The scheduler decides which run and how many
 * tokens each computes, reserving KV through the kv brick it is wired to
 * (host->wired(ctx, BRICKS_KIND_KV)), and returns one step plan. The step plan is the only
 * thing a scheduler hands to the engine.
 */
/* Included by bricks/abi.h; including this header alone includes abi.h first. */
#include "bricks/abi.h"

#ifndef BRICKS_KIND_SCHEDULER_H
#define BRICKS_KIND_SCHEDULER_H

#ifdef __cplusplus
extern "C" {
#endif

/* Where a request's KV lives, which decides what the scheduler may do with it. */
typedef enum bricks_request_state {
  BRICKS_REQ_WAITING = 0, /* holds no KV: new, or preempted by recompute */
  BRICKS_REQ_RUNNING = 1, /* holds KV blocks on the device tier */
  BRICKS_REQ_SWAPPED = 2  /* its KV lives on a lower tier (host or disk) */
} bricks_request_state;

/* What the scheduler sees of one request. Read-only; valid for the duration of the call. */
typedef struct bricks_request_view {
  uint64_t id;              /* unique for the life of the engine */
  double arrival_s;         /* when the request was accepted, on the host clock */
  int32_t priority;         /* larger runs first for priority-aware schedulers; 0 default */
  int32_t tenant;           /* who sent it, for fairness; 0 default */
  bricks_request_state state;
  int32_t prompt_len;       /* prompt tokens (including earlier turns of a conversation) */
  int32_t num_tokens;       /* prompt_len + generated so far: the sequence length */
  int32_t num_computed;     /* leading tokens whose KV is computed and cached */
  int32_t num_generated;    /* output tokens produced so far */
  int32_t max_new_tokens;   /* the request finishes after this many output tokens at most */
  int32_t num_preemptions;  /* times this request was preempted so far */
  int32_t turn;             /* 0 for the first turn of a conversation */
  uint64_t conversation;    /* conversation id; 0 when none */
  uint64_t prefix_group;    /* workload's shared-prefix group id; 0 when none */
  const int32_t* tokens;    /* [num_tokens] token ids (synthetic on a simulated device) */
} bricks_request_view;

/* What `schedule` sees: host-owned, valid for the duration of the call. */
typedef struct bricks_sched_input {
  uint32_t struct_size;     /* sizeof(bricks_sched_input) as the host saw it */
  const bricks_request_view* requests; /* [num_requests] live requests, arrival order */
  int32_t num_requests;     /* >= 0 */
  double now_s;             /* host clock at the start of the step */
  int64_t step;             /* step index, from 0 */
  /* (ABI minor 2) The model's context in tokens: no request's prompt_len + max_new_tokens
   * exceeds it. 0 when the host does not say. A host built before minor 2 passes a smaller
   * struct_size; read it through bricks_sched_max_model_len(), which answers 0 then. */
  int32_t max_model_len;
} bricks_sched_input;

/* input->max_model_len when the host's struct carries it, else 0 (unknown). */
static inline int32_t bricks_sched_max_model_len(const bricks_sched_input* input) {
  return input->struct_size >= offsetof(bricks_sched_input, max_model_len) + sizeof(int32_t)
             ? input->max_model_len
             : 0;
}

/* One request's share of a step: it computes `num_tokens` tokens starting at
 * num_computed + num_cached. `num_cached` is what the kv brick found in its prefix cache
 * when the request was (re)admitted this step (0 otherwise); the host advances
 * num_computed by it before computing. A request whose last prompt token is computed in this
 * step samples an output token. */
typedef struct bricks_sched_item {
  uint64_t request_id;
  int32_t num_tokens;       /* >= 1 */
  int32_t num_cached;       /* >= 0, a multiple of the kv block size */
} bricks_sched_item;

/* How a preempted request gives its KV back. */
typedef enum bricks_preempt_mode {
  BRICKS_PREEMPT_RECOMPUTE = 0, /* KV released; the request waits and recomputes later */
  BRICKS_PREEMPT_SWAP = 1       /* KV moved to a lower tier with kv.swap_out; swapped in later */
} bricks_preempt_mode;

/* A request the scheduler took off the device this step, and how. */
typedef struct bricks_sched_preemption {
  uint64_t request_id;      /* a running request of this step's input */
  bricks_preempt_mode mode; /* what the scheduler already did with its KV */
} bricks_sched_preemption;

/* A request the scheduler can never serve (for example a prompt larger than the whole KV
 * pool). The host fails it with the reason; the others go on. */
typedef struct bricks_sched_failure {
  uint64_t request_id;
  const char* reason;       /* one sentence, owned by the scheduler */
} bricks_sched_failure;

/* The step plan. Every array is owned by the scheduler and valid until its next call. */
typedef struct bricks_step_plan {
  const bricks_sched_item* items;     /* requests that compute this step, in batch order */
  int32_t num_items;
  const bricks_sched_preemption* preempted; /* preempted this step (already released or swapped) */
  int32_t num_preempted;
  const uint64_t* swapped_in;         /* swapped back to the device this step (kv.swap_in done) */
  int32_t num_swapped_in;
  const bricks_sched_failure* failed; /* requests to fail now */
  int32_t num_failed;
} bricks_step_plan;

/* What happened in the step the plan described. */
typedef struct bricks_step_result {
  uint32_t struct_size;     /* sizeof(bricks_step_result) as the host saw it */
  /* Requests that ended since the previous result: finished (stop token or length),
   * failed (by the scheduler's plan, the engine, or a step that could not run them) or
   * cancelled (a client that went away, between steps). Each request the scheduler has
   * seen in an input is reported here exactly once; after that it never appears again. */
  const uint64_t* finished;
  int32_t num_finished;
  double step_seconds;      /* how long the step took on the device */
} bricks_step_result;

/* A scheduler brick. The host calls it from the engine's step thread, one call at a time. */
typedef struct bricks_scheduler_vtable {
  BRICKS_VTABLE_HEADER;
  /* Called once per step, first. The host zeroes *out_plan before the call; the brick
   * fills it with arrays it owns (valid until its next call). Must return a plan that keeps
   * every limit the scheduler advertises (token budget, sequence count) and never
   * over-commits KV: every item has its blocks allocated through the kv brick before it is
   * returned. A request not in the plan keeps its state. An empty plan with live requests
   * means nothing can run now. */
  bricks_error* (*schedule)(void* instance, const bricks_sched_input* input,
                            bricks_step_plan* out_plan);
  /* (optional) Called after the step ran. The host has already released the KV of every
   * request in result->finished, failed and cancelled ones included. May be NULL. */
  void (*on_step_done)(void* instance, const bricks_step_result* result);
} bricks_scheduler_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BRICKS_KIND_SCHEDULER_H */
