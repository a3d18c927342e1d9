/* A scheduler plugin written against the raw C ABI, configurable at compile time so the
 * host suites get plugins that are broken in exactly one way:
 *   RAW_ABI_MAJOR / RAW_ABI_MINOR  the ABI version it claims
 *   RAW_NO_ENTRY                   exports no entry symbol
 *   RAW_ON_LOAD                    1: SIGSEGV, 2: abort, 3: sleeps forever, while loading
 *   RAW_BRICK_NAME, RAW_KIND       the one brick it declares (the vtable is a scheduler's
 *                                  header, enough for listing) */
#include <signal.h>
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
#ifndef RAW_KIND
#define RAW_KIND BRICKS_KIND_SCHEDULER
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

static const bricks_scheduler_vtable kVtable = {sizeof(bricks_scheduler_vtable), raw_create,
                                                raw_destroy, raw_schedule, NULL};

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
