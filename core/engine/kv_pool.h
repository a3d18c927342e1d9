// The physical KV cache of the cpu device: per layer, a K and a V pool of
// [num_blocks][block_size][num_kv_heads][head_dim] elements (f32 or f16), on the device
// tier and, when swapping is configured, on the host tier. The kv brick owns block ids;
// this class owns the bytes. A pool that does not store (the sim device) keeps only the
// geometry: it checks slots and copies and counts bytes without holding the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bricks/abi.h"

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
  KvPool(const KvShape& shape, int32_t num_device_blocks, int32_t num_host_blocks,
         bool stores_bytes = true);
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  const KvShape& shape() const { return shape_; }
  int32_t num_device_blocks() const { return num_device_blocks_; }
  int32_t num_host_blocks() const { return num_host_blocks_; }
  bool stores_bytes() const { return stores_bytes_; }

  const void* k(int32_t layer) const { return device_k_[layer].data(); }
  const void* v(int32_t layer) const { return device_v_[layer].data(); }

  // Writes `n` tokens' K and V rows ([n][num_kv_heads][head_dim] f32) of `layer` into the
  // device slots given (slot = block * block_size + offset), converting to the pool dtype.
  void write(int32_t layer, const float* k, const float* v, const int32_t* slots, int64_t n);

  // Runs block copies between tiers, in order. Returns bytes moved (counted the same
  // whether or not the pool stores bytes).
  size_t copy(const bricks_block_copy* copies, int32_t count);
  // The two halves of copy(), for a caller that moves the layers one at a time (KvCopier):
  // check_copies throws for a copy outside its pool and returns the bytes all of them
  // move; copy_layer then moves one layer's K and V of every copy, in order, and throws
  // nothing for copies that passed the check.
  size_t check_copies(const bricks_block_copy* copies, int32_t count) const;
  void copy_layer(int32_t layer, const bricks_block_copy* copies, int32_t count);

 private:
  int32_t tier_blocks(bricks_tier tier) const;
  std::vector<std::byte>& tier_k(bricks_tier tier, int32_t layer);
  std::vector<std::byte>& tier_v(bricks_tier tier, int32_t layer);

  KvShape shape_;
  int32_t num_device_blocks_;
  int32_t num_host_blocks_;
  bool stores_bytes_;
  std::vector<std::vector<std::byte>> device_k_, device_v_, host_k_, host_v_;
};

}  // namespace bricks::engine
