#include "engine/kv_pool.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu/cpu.h"

namespace bricks::engine {

size_t KvShape::token_bytes_per_layer() const {
  return 2 * static_cast<size_t>(num_kv_heads) * head_dim * element_bytes();
}

size_t KvShape::block_bytes() const {
  return token_bytes_per_layer() * block_size * num_layers;
}

KvPool::KvPool(const KvShape& shape, int32_t num_device_blocks, int32_t num_host_blocks,
               bool stores_bytes)
    : shape_(shape),
      num_device_blocks_(num_device_blocks),
      num_host_blocks_(num_host_blocks),
      stores_bytes_(stores_bytes) {
  if (shape.dtype != BRICKS_DTYPE_F32 && shape.dtype != BRICKS_DTYPE_F16) {
    throw std::invalid_argument("KV cache dtype must be f32 or f16");
  }
  const size_t per_block = shape.token_bytes_per_layer() / 2 * shape.block_size;
  if (!stores_bytes) return;
  auto make = [&](std::vector<std::vector<std::byte>>& pools, int32_t blocks) {
    pools.resize(shape.num_layers);
    for (auto& p : pools) p.resize(per_block * static_cast<size_t>(blocks));
  };
  make(device_k_, num_device_blocks);
  make(device_v_, num_device_blocks);
  make(host_k_, num_host_blocks);
  make(host_v_, num_host_blocks);
}

void KvPool::write(int32_t layer, const float* k, const float* v, const int32_t* slots,
                   int64_t n) {
  const int64_t row = static_cast<int64_t>(shape_.num_kv_heads) * shape_.head_dim;
  const int64_t capacity = static_cast<int64_t>(num_device_blocks_) * shape_.block_size;
  if (!stores_bytes_) {
    for (int64_t t = 0; t < n; ++t) {
      if (slots[t] < 0 || slots[t] >= capacity) {
        throw std::out_of_range("kv slot " + std::to_string(slots[t]) + " outside the pool of " +
                                std::to_string(capacity) + " slots");
      }
    }
    return;
  }
  std::byte* kd = device_k_[layer].data();
  std::byte* vd = device_v_[layer].data();
  for (int64_t t = 0; t < n; ++t) {
    const int64_t slot = slots[t];
    if (slot < 0 || slot >= capacity) {
      throw std::out_of_range("kv slot " + std::to_string(slot) + " outside the pool of " +
                              std::to_string(capacity) + " slots");
    }
    if (shape_.dtype == BRICKS_DTYPE_F32) {
      std::memcpy(kd + slot * row * 4, k + t * row, row * 4);
      std::memcpy(vd + slot * row * 4, v + t * row, row * 4);
    } else {
      cpu::f32_to_f16(k + t * row, reinterpret_cast<uint16_t*>(kd + slot * row * 2), row);
      cpu::f32_to_f16(v + t * row, reinterpret_cast<uint16_t*>(vd + slot * row * 2), row);
    }
  }
}

std::vector<std::byte>& KvPool::tier_k(bricks_tier tier, int32_t layer) {
  if (tier == BRICKS_TIER_DEVICE) return device_k_[layer];
  if (tier == BRICKS_TIER_HOST) return host_k_[layer];
  throw std::invalid_argument("the cpu device has no disk KV tier");
}

std::vector<std::byte>& KvPool::tier_v(bricks_tier tier, int32_t layer) {
  if (tier == BRICKS_TIER_DEVICE) return device_v_[layer];
  if (tier == BRICKS_TIER_HOST) return host_v_[layer];
  throw std::invalid_argument("the cpu device has no disk KV tier");
}

int32_t KvPool::tier_blocks(bricks_tier tier) const {
  if (tier == BRICKS_TIER_DEVICE) return num_device_blocks_;
  if (tier == BRICKS_TIER_HOST) return num_host_blocks_;
  throw std::invalid_argument("this device has no disk KV tier");
}

size_t KvPool::check_copies(const bricks_block_copy* copies, int32_t count) const {
  const size_t block = shape_.token_bytes_per_layer() * shape_.block_size;  // K and V, a layer
  size_t moved = 0;
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    if (cp.num_blocks < 1 || cp.src_block < 0 || cp.dst_block < 0 ||
        cp.src_block + cp.num_blocks > tier_blocks(cp.src_tier) ||
        cp.dst_block + cp.num_blocks > tier_blocks(cp.dst_tier)) {
      throw std::out_of_range("kv block copy of " + std::to_string(cp.num_blocks) +
                              " blocks from " + std::to_string(cp.src_block) + " to " +
                              std::to_string(cp.dst_block) + " is outside its pool");
    }
    moved += block * static_cast<size_t>(cp.num_blocks) * static_cast<size_t>(shape_.num_layers);
  }
  return moved;
}

void KvPool::copy_layer(int32_t layer, const bricks_block_copy* copies, int32_t count) {
  if (!stores_bytes_) return;
  const size_t block = shape_.token_bytes_per_layer() / 2 * shape_.block_size;
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    const size_t bytes = block * static_cast<size_t>(cp.num_blocks);
    for (int kv = 0; kv < 2; ++kv) {
      auto& src = kv == 0 ? tier_k(cp.src_tier, layer) : tier_v(cp.src_tier, layer);
      auto& dst = kv == 0 ? tier_k(cp.dst_tier, layer) : tier_v(cp.dst_tier, layer);
      std::memcpy(dst.data() + block * static_cast<size_t>(cp.dst_block),
                  src.data() + block * static_cast<size_t>(cp.src_block), bytes);
    }
  }
}

size_t KvPool::copy(const bricks_block_copy* copies, int32_t count) {
  const size_t moved = check_copies(copies, count);
  for (int32_t l = 0; l < shape_.num_layers; ++l) copy_layer(l, copies, count);
  return moved;
}

}  // namespace bricks::engine
