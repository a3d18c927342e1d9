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
 *  - Every vtable slot is required unless its comment begins "(optional)": the host calls a
 *    required slot without checking it, and checks an optional one for NULL before each call.
 *  - Pointers the host passes into a call are valid for that call only; copy what you keep.
 *
 * Versioning: the host refuses a plugin whose abi_major differs from BRICKS_ABI_MAJOR, or
 * whose abi_minor is newer than the host's. Minor versions only append fields at the end of
 * structs that carry `struct_size`, so an older plugin's shorter structs stay readable. For
 * vtables this means: a slot appended by a minor is optional, and the host refuses, at load
 * and naming the slot, a vtable shorter than its kind's vtable at the minor that introduced
 * the kind, or one with a NULL required slot. A longer vtable, from a newer minor of the
 * same major, is fine: the host reads only the slots it knows.
 */
#ifndef BRICKS_ABI_H
#define BRICKS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BRICKS_ABI_MAJOR 1
#define BRICKS_ABI_MINOR                                                          \
  3 /* 1: the adapter kind (kind_adapter.h); 2: bricks_sched_input.max_model_len; \
       3: bricks_attention_io.stream */

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

/* What kind of failure a bricks_error reports; the host decides from it whether to fail the
 * request, the run, or the manifest. */
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

/* The type of a brick parameter: which field of bricks_value holds it and how manifests
 * write it (int, float, bool, string). */
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
  bricks_param_type type;         /* selects the field of default_value and the range used */
  const char* doc;                /* one sentence: what it controls and its unit */
  int32_t has_default;            /* 0: the manifest must set it */
  bricks_value default_value;     /* with has_default: the value used when the manifest is silent */
  int64_t min_int, max_int;       /* INT only */
  double min_float, max_float;    /* FLOAT only */
  const char* const* choices;     /* ENUM only: the allowed strings */
  int32_t num_choices;            /* ENUM only: entries in choices, >= 1 */
} bricks_param_spec;

/* A parameter as the host passes it to `create`: every declared parameter is present,
 * defaults filled, types and ranges already checked against the spec. Strings are owned by
 * the host and valid only during `create`. */
typedef struct bricks_param_value {
  const char* name;               /* the spec's name */
  bricks_param_type type;         /* the spec's type */
  bricks_value value;             /* the manifest's value, or the spec's default */
} bricks_param_value;

/* ---------------------------------------------------------------------------------------
 * Kinds and descriptors
 * ------------------------------------------------------------------------------------- */

/* What a brick is, which selects its vtable type (kind headers) and where the engine uses
 * it. Values are stable; a new kind is appended in a minor version, and a host refuses a
 * brick whose kind it does not know. */
typedef enum bricks_kind {
  BRICKS_KIND_SCHEDULER = 0, /* picks each step's requests (kind_scheduler.h) */
  BRICKS_KIND_KV = 1,        /* owns the KV block tables (kind_kv.h) */
  BRICKS_KIND_ATTENTION = 2, /* attention over the paged KV cache (kind_attention.h) */
  BRICKS_KIND_PRUNING = 3,   /* drops tokens after chosen layers (kind_pruning.h) */
  BRICKS_KIND_ROUTER = 4, /* experts: per-token routing to experts or neuron clusters */
  BRICKS_KIND_MERGER = 5, /* experts: combines checkpoints tensor by tensor at load */
  BRICKS_KIND_ADAPTER = 6, /* low-rank adapters (LoRA) attached per request; ABI 1.1 */
  BRICKS_KIND_COUNT_ = 7  /* kinds this header knows; not a kind */
} bricks_kind;

/* One brick of a plugin: what `bricks list/inspect` print and manifests are checked against,
 * and the vtable the host calls. Static data: it and everything it points to must stay valid
 * and unchanged while the library is loaded. */
typedef struct bricks_brick_desc {
  uint32_t struct_size;           /* sizeof(bricks_brick_desc) as the plugin saw it */
  bricks_kind kind;
  const char* name;               /* unique within its kind, e.g. "fcfs", "paged" */
  const char* version;            /* the brick's own version, e.g. "1.2.0" */
  const char* summary;            /* one line for `bricks list` */
  const bricks_param_spec* params; /* [num_params] the parameters `create` receives */
  int32_t num_params;
  const char* const* provides;    /* capabilities, e.g. "attention.scores", "device.cpu" */
  int32_t num_provides;
  const char* const* requires_;   /* capabilities some wired brick must provide */
  int32_t num_requires;
  /* The kind's vtable, e.g. const bricks_scheduler_vtable*; never NULL. Checked at load
   * against its kind (size and required slots, see Versioning above). */
  const void* vtable;
  void* reserved[4];              /* zero; room to grow without a major bump */
} bricks_brick_desc;

/* What the entry symbol returns: the library's identity and its bricks. Static data, valid
 * and unchanged while the library is loaded (the host never unloads it before exit). */
typedef struct bricks_plugin_desc {
  uint32_t struct_size;           /* sizeof(bricks_plugin_desc) as the plugin saw it */
  uint32_t abi_major;             /* BRICKS_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;             /* BRICKS_ABI_MINOR the plugin was built with */
  const char* name;               /* the plugin (library) name */
  const char* version;            /* the plugin's own version, e.g. "1.0.0" */
  const char* license;            /* SPDX identifier, e.g. "Apache-2.0" */
  /* [num_bricks], all with the same struct_size (the array's stride). */
  const bricks_brick_desc* bricks;
  int32_t num_bricks;
  void* reserved[4];              /* zero; room to grow without a major bump */
} bricks_plugin_desc;

/* The type of the exported entry symbol. It must not fail, allocate per call, or depend on
 * anything but static data: the host may call it in a child process just to list bricks. */
typedef const bricks_plugin_desc* (*bricks_plugin_entry_fn)(void);

/* ---------------------------------------------------------------------------------------
 * What the host gives every brick instance
 * ------------------------------------------------------------------------------------- */

/* Severity of a line written through bricks_host_api::log. */
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

/* The host's services for one brick instance, passed to `create`. The pointer and the
 * struct stay valid until the instance's `destroy` returns, so a brick keeps the pointer.
 * Every function is set (none is NULL) and none throws. The functions that take `ctx` act
 * for this instance (its log tag, its clock, its wiring); the error functions take none
 * because an error is not tied to an instance: it may be returned through, or freed by,
 * another brick. log, alloc_aligned, free_aligned and the error functions may be called
 * from any thread, concurrently (a merger's merge calls run on several); now_s and wired
 * from the thread of the host's current call into the instance. */
typedef struct bricks_host_api {
  uint32_t struct_size;           /* sizeof(bricks_host_api) as the host saw it */
  /* Pass back as the first argument of log, now_s, alloc_aligned, free_aligned and wired. */
  void* ctx;
  /* Writes one line to the host's log, tagged with the brick's name. `message` is copied;
   * NULL reads as "". */
  void (*log)(void* ctx, bricks_log_level level, const char* message);
  /* Monotonic seconds. On a simulated device this is simulated time. */
  double (*now_s)(void* ctx);
  /* Memory aligned to `alignment` (a power of two); NULL when out of memory or for an
   * alignment that is not a power of two. Freed with free_aligned, by this instance. */
  void* (*alloc_aligned)(void* ctx, size_t bytes, size_t alignment);
  /* Frees what alloc_aligned returned; NULL is ignored. */
  void (*free_aligned)(void* ctx, void* ptr);
  /* A new error the caller returns; `message` is copied (NULL reads as ""). Takes no ctx:
   * see above. */
  bricks_error* (*error_new)(bricks_code code, const char* message);
  /* The first wired brick of `kind`, or kind/vtable/instance all zero if none is wired.
   * The host wires bricks after `create` (which sees none) and before the first verb, and
   * a wired brick outlives this one. Its vtable was checked at load like this brick's own;
   * one from an older minor may be shorter than this header's type: read its struct_size
   * before using a slot a later minor appended. */
  bricks_brick_ref (*wired)(void* ctx, bricks_kind kind);
  /* Reading and disposing of an error that a wired brick returned: a brick either returns
   * it on (the host then owns it) or frees it here after reading its message. The message
   * lives as long as the error. Neither takes ctx: see above. */
  const char* (*error_message)(const bricks_error* error);
  void (*error_free)(bricks_error* error);
  void* reserved[2];              /* NULL; room for more services in a minor version */
} bricks_host_api;

/* Every vtable starts with these three members, in this order.
 *  struct_size  sizeof the vtable as the plugin saw it; the host reads no slot past it.
 *  create       Called once per instance the host makes (a manifest may make several of
 *               one brick), after the library is loaded. `params` holds every declared
 *               param, valid during the call only; `host` stays valid until destroy. On
 *               success sets *out_instance and returns NULL (the host never destroys a
 *               NULL instance); on error returns the error and the host calls no destroy.
 *  destroy      Called once per created instance, after its last call, and before
 *               destroy of any brick it is wired to. Must not fail. */
#define BRICKS_VTABLE_HEADER                                                              \
  uint32_t struct_size;                                                                   \
  bricks_error* (*create)(const bricks_host_api* host, const bricks_param_value* params,  \
                          int32_t num_params, void** out_instance);                       \
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
