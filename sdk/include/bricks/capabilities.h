/*
 * bricks/capabilities.h: the capability names, declared once.
 *
 * A brick lists the capabilities it provides and those it requires from the other bricks
 * of a manifest (bricks_brick_desc.provides and .requires_). `bricks validate` refuses a
 * manifest where a required capability is provided by no other brick, naming the bricks
 * that do provide it. A name is a promise about behaviour the kind's vtable alone does not
 * state; the comment on each says what a brick that declares it promises.
 *
 * Use the macros, not string literals, so that a typo is a compile error:
 *
 *   static const char* const kProvides[] = {BRICKS_CAP_KV_PAGED, BRICKS_CAP_KV_SWAP};
 *
 * They are string literals, so they also concatenate into messages. Plain C; includes
 * nothing. New names are added in minor versions; a name is never reused for another
 * promise.
 */
#ifndef BRICKS_CAPABILITIES_H
#define BRICKS_CAPABILITIES_H

/* ---- Devices -------------------------------------------------------------------------
 * "device.<kind>" is also satisfied by the manifest's device itself: a brick that requires
 * device.cpu validates in a manifest whose device kind is cpu. */

/* Runs on the cpu device: its verbs read and write host memory directly. */
#define BRICKS_CAP_DEVICE_CPU "device.cpu"

/* Runs on the cuda device: its verbs get device memory of the current CUDA device and
 * enqueue their work on the stream they are given (kind_attention.h: io->stream). */
#define BRICKS_CAP_DEVICE_CUDA "device.cuda"

/* ---- kv bricks ----------------------------------------------------------------------- */

/* KV lives in fixed-size blocks of block_size tokens, described per step as a CSR page
 * table (bricks_page_table). Every shipped kv brick provides it; a scheduler that counts
 * blocks (all the shipped ones, and the SDK's KvClient) requires it. */
#define BRICKS_CAP_KV_PAGED "kv.paged"

/* swap_out, swap_in and take_copies are implemented: a running request's blocks move to
 * the host tier and back. Needed for preemption by swap. */
#define BRICKS_CAP_KV_SWAP "kv.swap"

/* lookup_prefix finds full blocks computed by earlier requests with the same leading
 * tokens, and allocate reuses them (num_cached > 0). Turned off by the brick's
 * enable_prefix_cache param where it has one. */
#define BRICKS_CAP_KV_PREFIX_CACHE "kv.prefix_cache"

/* The prefix cache is a tree over block-sized token runs shared by reference count;
 * unreferenced leaves are evicted first, least recently used. Implies kv.prefix_cache. */
#define BRICKS_CAP_KV_PREFIX_TREE "kv.prefix_tree"

/* A request's blocks are allocated as aligned contiguous runs (block groups) that grow in
 * place, so a swap copies a few long runs instead of many single blocks. */
#define BRICKS_CAP_KV_BLOCK_GROUP "kv.block_group"

/* A finished conversation turn's full blocks are kept (on the host tier) and the next turn
 * of the same conversation gets them as a prefix hit. Turned off by the brick's
 * keep_conversations param where it has one. */
#define BRICKS_CAP_KV_CONVERSATION_REUSE "kv.conversation_reuse"

/* ---- attention bricks ---------------------------------------------------------------- */

/* Reads KV pools stored as f32 elements (device.kv_dtype "f32"). */
#define BRICKS_CAP_KV_F32 "kv.f32"

/* Reads KV pools stored as f16 elements (device.kv_dtype "f16"). */
#define BRICKS_CAP_KV_F16 "kv.f16"

/* Fills bricks_attention_io.scores when the host passes it (non-NULL): the attention the
 * flagged rows paid to every earlier token, which pruning bricks rank tokens by. */
#define BRICKS_CAP_ATTENTION_SCORES "attention.scores"

/* ---- adapter bricks ------------------------------------------------------------------ */

/* Loads LoRA adapters (PEFT directories or GGUF files) and applies them per request. */
#define BRICKS_CAP_ADAPTER_LORA "adapter.lora"

#endif /* BRICKS_CAPABILITIES_H */
