/* A plugin written against the raw C ABI, configurable at compile time so the host suites
 * get plugins that are broken in exactly one way:
 *   RAW_ABI_MAJOR / RAW_ABI_MINOR  the ABI version it claims
 *   RAW_NO_ENTRY                   exports no entry symbol
 *   RAW_ON_LOAD                    1: SIGSEGV, 2: abort, 3: sleeps forever, while loading
 *   RAW_BRICK_NAME                 the name of the one brick it declares
 *   RAW_KV                         the brick is a kv brick (default: a scheduler)
 *   RAW_NULL_SLOT                  a required slot is NULL (schedule, or build_page_table)
 *   RAW_SHORT_VTABLE               the scheduler's vtable claims a struct_size that ends
 *                                  before its schedule slot
 * Every slot that is set does the least that is valid, which is enough for listing and for
 * creating the brick. */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "bricks/abi.h"

#ifndef RAW_ABI_MAJOR
#define RAW_ABI_MAJOR BRICKS_ABI_MAJOR
#endif
#ifndef RAW_ABI_MINOR
#define RAW_ABI_MINOR BRICKS_ABI_MINOR
#endif
#ifndef RAW_BRICK_NAME
#define RAW_BRICK_NAME "raw"
#endif

#if defined(RAW_ON_LOAD)
/* Runs while the library loads, before the host can call anything. */
__attribute__((constructor)) static void misbehave_on_load(void) {
#if RAW_ON_LOAD == 1
  raise(SIGSEGV);
#elif RAW_ON_LOAD == 2
  abort();
#else
  for (;;) sleep(60);
#endif
}
#endif

static int g_instance;

static bricks_error* raw_create(const bricks_host_api* host, const bricks_param_value* params,
                                int32_t num_params, void** out_instance) {
  (void)host;
  (void)params;
  (void)num_params;
  *out_instance = &g_instance;
  return NULL;
}

static void raw_destroy(void* instance) { (void)instance; }

#if defined(RAW_KV)
#define RAW_KIND BRICKS_KIND_KV

static int32_t raw_block_size(void* instance) {
  (void)instance;
  return 16;
}

static bricks_error* raw_configure(void* instance, const bricks_kv_geometry* geometry) {
  (void)instance;
  (void)geometry;
  return NULL;
}

static int32_t raw_lookup_prefix(void* instance, const bricks_request_view* r, int32_t group) {
  (void)instance;
  (void)r;
  (void)group;
  return 0;
}

static bricks_error* raw_allocate(void* instance, const bricks_request_view* r, int32_t group,
                                  int32_t num_cached, int32_t num_new, int32_t* out_ok) {
  (void)instance;
  (void)r;
  (void)group;
  (void)num_cached;
  (void)num_new;
  *out_ok = 0;
  return NULL;
}

static void raw_commit(void* instance, const bricks_request_view* r, int32_t group) {
  (void)instance;
  (void)r;
  (void)group;
}

static void raw_release(void* instance, uint64_t request_id) {
  (void)instance;
  (void)request_id;
}

#if !defined(RAW_NULL_SLOT)
static bricks_error* raw_build_page_table(void* instance, int32_t group, const bricks_kv_seq* seqs,
                                          int32_t num_seqs, bricks_page_table* out_table,
                                          int32_t* out_slots) {
  (void)instance;
  (void)group;
  (void)seqs;
  (void)num_seqs;
  (void)out_slots;
  out_table->batch = 0;
  return NULL;
}
#endif

static void raw_stats(void* instance, bricks_kv_stats* out) {
  (void)instance;
  (void)out;
}

static const bricks_kv_vtable kVtable = {
    .struct_size = sizeof(bricks_kv_vtable),
    .create = raw_create,
    .destroy = raw_destroy,
    .block_size = raw_block_size,
    .configure = raw_configure,
    .lookup_prefix = raw_lookup_prefix,
    .allocate = raw_allocate,
    .commit = raw_commit,
    .release = raw_release,
#if !defined(RAW_NULL_SLOT)
    .build_page_table = raw_build_page_table,
#endif
    .stats = raw_stats,
};

#else /* a scheduler */
#define RAW_KIND BRICKS_KIND_SCHEDULER

#if !defined(RAW_NULL_SLOT)
static bricks_error* raw_schedule(void* instance, const bricks_sched_input* input,
                                  bricks_step_plan* out_plan) {
  (void)instance;
  (void)input;
  out_plan->num_items = 0;
  out_plan->num_preempted = 0;
  out_plan->num_swapped_in = 0;
  out_plan->num_failed = 0;
  return NULL;
}
#endif

static const bricks_scheduler_vtable kVtable = {
#if defined(RAW_SHORT_VTABLE)
    .struct_size = offsetof(bricks_scheduler_vtable, schedule),
#else
    .struct_size = sizeof(bricks_scheduler_vtable),
#endif
    .create = raw_create,
    .destroy = raw_destroy,
#if !defined(RAW_NULL_SLOT)
    .schedule = raw_schedule,
#endif
};
#endif

static const bricks_brick_desc kBricks[] = {{sizeof(bricks_brick_desc),
                                             RAW_KIND,
                                             RAW_BRICK_NAME,
                                             "0.1.0",
                                             "A brick from the raw C ABI.",
                                             NULL,
                                             0,
                                             NULL,
                                             0,
                                             NULL,
                                             0,
                                             &kVtable,
                                             {NULL, NULL, NULL, NULL}}};

static const bricks_plugin_desc kPlugin = {sizeof(bricks_plugin_desc),
                                           RAW_ABI_MAJOR,
                                           RAW_ABI_MINOR,
                                           "raw_" RAW_BRICK_NAME,
                                           "0.1.0",
                                           "MIT",
                                           kBricks,
                                           1,
                                           {NULL, NULL, NULL, NULL}};

#if defined(RAW_NO_ENTRY)
BRICKS_EXPORT const bricks_plugin_desc* not_the_entry_symbol(void) { return &kPlugin; }
#else
BRICKS_EXPORT const bricks_plugin_desc* bricks_plugin_entry(void) { return &kPlugin; }
#endif
