#include "engine/kv_pool.h"

#include <tbb/parallel_for.h>

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
               bool stores_bytes, const std::optional<tier::DiskTierOptions>& disk)
    : shape_(shape),
      num_device_blocks_(num_device_blocks),
      num_host_blocks_(num_host_blocks),
      stores_bytes_(stores_bytes) {
  if (shape.dtype != BRICKS_DTYPE_F32 && shape.dtype != BRICKS_DTYPE_F16) {
    throw std::invalid_argument("KV cache dtype must be f32 or f16");
  }
  const size_t per_block = shape.token_bytes_per_layer() / 2 * shape.block_size;
  if (!stores_bytes) return;
  auto make = [&](std::vector<ZeroPages>& pools, int32_t blocks) {
    pools.reserve(shape.num_layers);
    for (int32_t l = 0; l < shape.num_layers; ++l) {
      pools.emplace_back(per_block * static_cast<size_t>(blocks));
    }
  };
  make(device_k_, num_device_blocks);
  make(device_v_, num_device_blocks);
  host_ = std::make_unique<KvHostTier>(shape.block_bytes(), per_block, num_host_blocks, disk);
  num_host_blocks_ = host_->num_blocks();
}

size_t KvPool::fault_in() {
  std::vector<ZeroPages*> pools;
  size_t bytes = 0;
  for (auto* side : {&device_k_, &device_v_}) {
    for (ZeroPages& p : *side) {
      pools.push_back(&p);
      bytes += p.size();
    }
  }
  // A fault's time is mostly the kernel zeroing the page (on a VM, the host backing it), and
  // faults in different mappings run side by side.
  tbb::parallel_for(size_t{0}, pools.size(), [&](size_t i) { pools[i]->fault_in(); });
  return bytes;
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

std::byte* KvPool::block_at(bricks_tier tier, int32_t block, int32_t layer, int kv) {
  const size_t half = shape_.token_bytes_per_layer() / 2 * shape_.block_size;
  if (tier == BRICKS_TIER_DEVICE) {
    return (kv == 0 ? device_k_ : device_v_)[layer].data() + half * static_cast<size_t>(block);
  }
  if (tier == BRICKS_TIER_HOST) return host_->place(block, layer, kv);
  throw std::invalid_argument("the cpu device's disk tier is part of its host tier");
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
  const size_t half = shape_.token_bytes_per_layer() / 2 * shape_.block_size;
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    // A host block is placed on its own (memory slot or staging buffer): one block at a time.
    for (int32_t i = 0; i < cp.num_blocks; ++i) {
      for (int kv = 0; kv < 2; ++kv) {
        std::memcpy(block_at(cp.dst_tier, cp.dst_block + i, layer, kv),
                    block_at(cp.src_tier, cp.src_block + i, layer, kv), half);
      }
    }
  }
}

std::unordered_map<int32_t, std::string>& KvPool::marks(bricks_tier tier) {
  return tier == BRICKS_TIER_DEVICE ? device_lost_ : host_lost_;
}

void KvPool::mark(const std::vector<KvBlockFailure>& lost) {
  for (const KvBlockFailure& f : lost) host_lost_[f.host_block] = f.reason;
}

void KvPool::prepare(const bricks_block_copy* copies, int32_t count) {
  if (!stores_bytes_) return;
  const std::vector<KvBlockFailure> lost = host_->prepare(copies, count);
  std::lock_guard<std::mutex> lock(mu_);
  mark(lost);
  if (host_->has_disk()) disk_counters_ = host_->counters();
  if (device_lost_.empty() && host_lost_.empty()) return;
  // The marks follow the copies in their order, as the bytes do.
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    auto& from = marks(cp.src_tier);
    auto& to = marks(cp.dst_tier);
    for (int32_t i = 0; i < cp.num_blocks; ++i) {
      const auto it = from.find(cp.src_block + i);
      if (it == from.end()) {
        to.erase(cp.dst_block + i);
      } else {
        std::string reason = it->second;
        to[cp.dst_block + i] = std::move(reason);
      }
    }
  }
}

void KvPool::complete() {
  if (!stores_bytes_) return;
  const std::vector<KvBlockFailure> lost = host_->complete();
  std::lock_guard<std::mutex> lock(mu_);
  mark(lost);
  if (host_->has_disk()) disk_counters_ = host_->counters();
}

std::string KvPool::failed_device_block(int32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = device_lost_.find(block);
  return it == device_lost_.end() ? std::string() : it->second;
}

std::string KvPool::failed_host_block(int32_t block) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = host_lost_.find(block);
  return it == host_lost_.end() ? std::string() : it->second;
}

bool KvPool::any_failed_blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !device_lost_.empty();
}

void KvPool::forget_device_failure(int32_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  device_lost_.erase(block);
}

KvDiskCounters KvPool::disk_counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_counters_;
}

const tier::DiskBlockFile* KvPool::disk_file() const {
  return host_ != nullptr ? host_->disk_file() : nullptr;
}

size_t KvPool::copy(const bricks_block_copy* copies, int32_t count) {
  const size_t moved = check_copies(copies, count);
  prepare(copies, count);
  for (int32_t l = 0; l < shape_.num_layers; ++l) copy_layer(l, copies, count);
  complete();
  return moved;
}

}  // namespace bricks::engine
