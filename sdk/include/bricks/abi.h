/*
 * bricks/abi.h: the C boundary between the Bricks host and a brick plugin.
 *
 * A plugin is a shared library that exports exactly one symbol, `bricks_plugin_entry`,
 * returning a `bricks_plugin_desc`. The descriptor lists the bricks the library holds; each
 * brick names its kind, its typed parameters, the capabilities it provides and requires,
 * and a pointer to its kind's vtable (declared in the kind headers included at the end).
 *
 * Rules that hold for every function in this header and the kind headers:
 *  - Only plain C types cross: no exceptions, no STL, no protobuf, no logger objects.
 *  - A function that can fail returns `bricks_error*`; NULL means success. A non-NULL error
 *    is created with `bricks_host_api::error_new` and owned by the host after return.
 *  - Arrays are (pointer, count). Memory a brick returns stays valid until the next call
 *    on the same instance, or `destroy`, unless a comment says otherwise.
 *  - An instance is used by one host thread at a time unless its kind header says otherwise.
 *
 * Versioning: the host refuses a plugin whose abi_major differs from BRICKS_ABI_MAJOR, or
 * whose abi_minor is newer than the host's. Minor versions only append fields at the end of
 * structs that carry `struct_size`, so an older plugin's shorter structs stay readable.
 */
#ifndef BRICKS_ABI_H
#define BRICKS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BRICKS_ABI_MAJOR 1
#define BRICKS_ABI_MINOR 1 /* 1: the adapter kind (kind_adapter.h) */

/* The one symbol every plugin exports. */
#define BRICKS_ENTRY_SYMBOL "bricks_plugin_entry"

#if defined(_WIN32)
#define BRICKS_EXPORT __declspec(dllexport)
#else
#define BRICKS_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------- */

typedef enum bricks_code {
  BRICKS_OK = 0,
  BRICKS_INVALID_ARGUMENT = 1, /* the caller passed something the brick cannot use */
  BRICKS_RESOURCE_EXHAUSTED = 2, /* out of memory or capacity (not "no free KV blocks") */
  BRICKS_UNSUPPORTED = 3,      /* a shape, dtype or feature this brick does not handle */
  BRICKS_INTERNAL = 4          /* a bug or an exception caught at the boundary */
} bricks_code;

/* Opaque; made by the host's error_new, read by the host, freed by the host. */
typedef struct bricks_error bricks_error;

/* ---------------------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------------------- */

typedef enum bricks_param_type {
  BRICKS_PARAM_INT = 0,    /* int64 in [min_int, max_int] */
  BRICKS_PARAM_FLOAT = 1,  /* double in [min_float, max_float] */
  BRICKS_PARAM_BOOL = 2,   /* 0 or 1, in the int field */
  BRICKS_PARAM_STRING = 3, /* any UTF-8 text */
  BRICKS_PARAM_ENUM = 4    /* one of `choices`, in the string field */
} bricks_param_type;

/* One typed value. Only the field matching the type is meaningful. */
typedef struct bricks_value {
  int64_t i;     /* INT and BOOL */
  double f;      /* FLOAT */
  const char* s; /* STRING and ENUM; NULL never (empty string instead) */
} bricks_value;

/* How a brick declares a parameter; the host validates manifests against it and the CLI
 * prints it. Ranges are inclusive. A parameter without a default is required. */
typedef struct bricks_param_spec {
  const char* name;               /* lower_snake_case, unique within the brick */
  bricks_param_type type;
  const char* doc;                /* one sentence: what it controls and its unit */
  int32_t has_default;            /* 0: the manifest must set it */
  bricks_value default_value;
  int64_t min_int, max_int;       /* INT only */
  double min_float, max_float;    /* FLOAT only */
  const char* const* choices;     /* ENUM only: the allowed strings */
  int32_t num_choices;
} bricks_param_spec;

/* A parameter as the host passes it to `create`: every declared parameter is present,
 * defaults filled, types and ranges already checked against the spec. */
typedef struct bricks_param_value {
  const char* name;
  bricks_param_type type;
  bricks_value value;
} bricks_param_value;

/* ---------------------------------------------------------------------------------------
 * Kinds and descriptors
 * ------------------------------------------------------------------------------------- */

typedef enum bricks_kind {
  BRICKS_KIND_SCHEDULER = 0,
  BRICKS_KIND_KV = 1,
  BRICKS_KIND_ATTENTION = 2,
  BRICKS_KIND_PRUNING = 3,
  BRICKS_KIND_ROUTER = 4, /* experts: per-token routing to experts or neuron clusters */
  BRICKS_KIND_MERGER = 5, /* experts: combines checkpoints tensor by tensor at load */
  BRICKS_KIND_ADAPTER = 6, /* low-rank adapters (LoRA) attached per request; ABI 1.1 */
  BRICKS_KIND_COUNT_ = 7
} bricks_kind;

typedef struct bricks_brick_desc {
  uint32_t struct_size;           /* sizeof(bricks_brick_desc) as the plugin saw it */
  bricks_kind kind;
  const char* name;               /* unique within its kind, e.g. "fcfs", "paged" */
  const char* version;            /* the brick's own version, e.g. "1.2.0" */
  const char* summary;            /* one line for `bricks list` */
  const bricks_param_spec* params;
  int32_t num_params;
  const char* const* provides;    /* capabilities, e.g. "attention.scores", "device.cpu" */
  int32_t num_provides;
  const char* const* requires_;   /* capabilities some wired brick must provide */
  int32_t num_requires;
  const void* vtable;             /* the kind's vtable, e.g. const bricks_scheduler_vtable* */
  void* reserved[4];              /* zero; room to grow without a major bump */
} bricks_brick_desc;

typedef struct bricks_plugin_desc {
  uint32_t struct_size;           /* sizeof(bricks_plugin_desc) as the plugin saw it */
  uint32_t abi_major;             /* BRICKS_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;             /* BRICKS_ABI_MINOR the plugin was built with */
  const char* name;               /* the plugin (library) name */
  const char* version;
  const char* license;            /* SPDX identifier, e.g. "Apache-2.0" */
  const bricks_brick_desc* bricks;
  int32_t num_bricks;
  void* reserved[4];
} bricks_plugin_desc;

/* The type of the exported entry symbol. It must not fail, allocate per call, or depend on
 * anything but static data: the host may call it in a child process just to list bricks. */
typedef const bricks_plugin_desc* (*bricks_plugin_entry_fn)(void);

/* ---------------------------------------------------------------------------------------
 * What the host gives every brick instance
 * ------------------------------------------------------------------------------------- */

typedef enum bricks_log_level {
  BRICKS_LOG_TRACE = 0,
  BRICKS_LOG_DEBUG = 1,
  BRICKS_LOG_INFO = 2,
  BRICKS_LOG_WARN = 3,
  BRICKS_LOG_ERROR = 4
} bricks_log_level;

/* A brick this instance is wired to, as the manifest says: its kind, vtable and instance. */
typedef struct bricks_brick_ref {
  bricks_kind kind;
  const void* vtable;             /* cast to the kind's vtable type */
  void* instance;
} bricks_brick_ref;

typedef struct bricks_host_api {
  uint32_t struct_size;
  void* ctx;                      /* pass back as the first argument of every call below */
  /* Writes one line to the host's log, tagged with the brick's name. */
  void (*log)(void* ctx, bricks_log_level level, const char* message);
  /* Monotonic seconds. On a simulated device this is simulated time. */
  double (*now_s)(void* ctx);
  /* Memory aligned to `alignment` (a power of two); NULL when out of memory. */
  void* (*alloc_aligned)(void* ctx, size_t bytes, size_t alignment);
  void (*free_aligned)(void* ctx, void* ptr);
  /* A new error the caller returns; `message` is copied. */
  bricks_error* (*error_new)(bricks_code code, const char* message);
  /* The first wired brick of `kind`, or kind/vtable/instance all zero if none is wired. */
  bricks_brick_ref (*wired)(void* ctx, bricks_kind kind);
  /* Reading and disposing of an error that a wired brick returned: a brick either returns
   * it on (the host then owns it) or frees it here after reading its message. */
  const char* (*error_message)(const bricks_error* error);
  void (*error_free)(bricks_error* error);
  void* reserved[2];
} bricks_host_api;

/* Every vtable starts with these three members, in this order. */
#define BRICKS_VTABLE_HEADER                                                              \
  uint32_t struct_size;                                                                   \
  /* Called once after the library is loaded; `params` holds every declared param. */     \
  bricks_error* (*create)(const bricks_host_api* host, const bricks_param_value* params,  \
                          int32_t num_params, void** out_instance);                       \
  /* Called once; the instance is not used afterwards. Must not fail. */                  \
  void (*destroy)(void* instance)

#ifdef __cplusplus
} /* extern "C" */
#endif

#include "bricks/kind_scheduler.h"
#include "bricks/kind_kv.h"
#include "bricks/kind_attention.h"
#include "bricks/kind_pruning.h"
#include "bricks/kind_experts.h"
#include "bricks/kind_adapter.h"

#endif /* BRICKS_ABI_H */
