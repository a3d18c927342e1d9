// The physical KV cache of the cpu device: per layer, a K and a V pool of
// [num_blocks][block_size][num_kv_heads][head_dim] elements (f32 or f16) on the device
// tier and, when swapping is configured, a host tier (engine/kv_host_tier.h), which may
// spill to a disk tier below it. The kv brick owns block ids; this class owns the bytes. A
// pool that does not store (the sim device) keeps only the geometry: it checks slots and
// copies and counts bytes without holding the cache.
//
// Lost blocks: a host block whose disk read or write failed is marked with the reason, and
// the mark follows the bytes through the copies (a copy's destination takes its source's
// mark, or loses its own). The engine fails the requests that would read a marked device
// block (failed_device_block) instead of computing on wrong bytes.
//
// Thread safety: one thread at a time copies (the engine's, or a KvCopier's during a job);
// the marks and the disk counters may be read from another thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bricks/abi.h"
#include "engine/kv_host_tier.h"
#include "engine/zero_pages.h"

namespace bricks::engine {

// Seconds spent on KV block copies: all of it, and the part that ran while the step
// computed (hidden behind the forward pass).
struct KvCopyTime {
  double total_s = 0;
  double hidden_s = 0;
};

struct KvShape {
  int32_t num_layers = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t block_size = 16;
  bricks_dtype dtype = BRICKS_DTYPE_F32;  // F32 or F16

  size_t element_bytes() const { return dtype == BRICKS_DTYPE_F16 ? 2 : 4; }
  // Bytes of one token's K and V in one layer.
  size_t token_bytes_per_layer() const;
  // K+V bytes of one block over all layers.
  size_t block_bytes() const;
};

class KvPool {
 public:
  // `num_host_blocks` in host memory; with `disk` (and a pool that stores bytes), its
  // num_blocks more on the disk tier, which the kv brick sees as part of the host tier.
  // Throws tier::TierError when the disk tier's file cannot be made.
  KvPool(const KvShape& shape, int32_t num_device_blocks, int32_t num_host_blocks,
         bool stores_bytes = true, const std::optional<tier::DiskTierOptions>& disk = std::nullopt);
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  const KvShape& shape() const { return shape_; }
  int32_t num_device_blocks() const { return num_device_blocks_; }
  // Host memory's blocks plus the disk tier's.
  int32_t num_host_blocks() const { return num_host_blocks_; }
  int32_t num_disk_blocks() const { return host_ != nullptr ? host_->disk_blocks() : 0; }
  bool stores_bytes() const { return stores_bytes_; }

  // Makes the device blocks of every layer resident now, on all threads, instead of as each
  // is first written; returns their bytes (0 when the pool stores none). Throws
  // std::bad_alloc when the memory is not there.
  size_t fault_in();

  const void* k(int32_t layer) const { return device_k_[layer].data(); }
  const void* v(int32_t layer) const { return device_v_[layer].data(); }

  // Writes `n` tokens' K and V rows ([n][num_kv_heads][head_dim] f32) of `layer` into the
  // device slots given (slot = block * block_size + offset), converting to the pool dtype.
  void write(int32_t layer, const float* k, const float* v, const int32_t* slots, int64_t n);

  // Runs block copies between tiers, in order. Returns bytes moved (counted the same
  // whether or not the pool stores bytes).
  size_t copy(const bricks_block_copy* copies, int32_t count);
  // The parts of copy(), for a caller that moves the layers one at a time (KvCopier):
  // check_copies throws for a copy outside its pool and returns the bytes all of them
  // move; prepare places the host blocks and runs the disk reads and evictions the layer
  // copies need (the disk reads of swap-ins complete before layer 0 can be copied);
  // copy_layer then moves one layer's K and V of every copy, in order; complete writes the
  // swap-outs that found no room in host memory to the disk. None throws for copies that
  // passed the check; a disk transfer that fails marks its blocks instead.
  size_t check_copies(const bricks_block_copy* copies, int32_t count) const;
  void prepare(const bricks_block_copy* copies, int32_t count);
  void copy_layer(int32_t layer, const bricks_block_copy* copies, int32_t count);
  void complete();

  // Why the bytes of device block `block` are lost, or empty when they are good.
  std::string failed_device_block(int32_t block) const;
  // Whether any block is marked lost (a cheap check before looking at blocks).
  bool any_failed_blocks() const;
  // Device block `block` is about to be written from scratch: its mark goes.
  void forget_device_failure(int32_t block);
  // Host tier blocks marked lost (for tests and tools).
  std::string failed_host_block(int32_t block) const;

  // The disk tier's traffic; zeros without one.
  KvDiskCounters disk_counters() const;
  // The disk tier's file (null without one), and its host tier (for tests and tools).
  const tier::DiskBlockFile* disk_file() const;
  const KvHostTier* host_tier() const { return host_.get(); }

 private:
  int32_t tier_blocks(bricks_tier tier) const;
  // Where K (kv = 0) or V of `layer` of `block` of `tier` is.
  std::byte* block_at(bricks_tier tier, int32_t block, int32_t layer, int kv);
  void mark(const std::vector<KvBlockFailure>& lost);
  std::unordered_map<int32_t, std::string>& marks(bricks_tier tier);

  KvShape shape_;
  int32_t num_device_blocks_;
  int32_t num_host_blocks_;
  bool stores_bytes_;
  std::vector<ZeroPages> device_k_, device_v_;  // one per layer
  std::unique_ptr<KvHostTier> host_;
  mutable std::mutex mu_;  // the marks and the counters' copy
  std::unordered_map<int32_t, std::string> device_lost_, host_lost_;
  KvDiskCounters disk_counters_;
};

}  // namespace bricks::engine
