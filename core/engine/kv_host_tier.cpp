#include "engine/kv_host_tier.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <unordered_set>

namespace bricks::engine {

namespace {
double disk_seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

KvHostTier::KvHostTier(size_t block_bytes, size_t layer_half_bytes, int32_t memory_blocks,
                       const std::optional<tier::DiskTierOptions>& disk)
    : block_bytes_(block_bytes),
      layer_half_bytes_(layer_half_bytes),
      memory_blocks_(memory_blocks),
      memory_(block_bytes * static_cast<size_t>(memory_blocks)) {
  if (!disk.has_value() || disk->num_blocks <= 0) return;
  tier::DiskTierOptions o = *disk;
  o.block_bytes = static_cast<int64_t>(block_bytes);
  file_ = std::make_unique<tier::DiskBlockFile>(o);
  disk_blocks_ = o.num_blocks;
  where_.resize(static_cast<size_t>(num_blocks()));
  for (int32_t s = memory_blocks_ - 1; s >= 0; --s) free_slots_.push_back(s);
  for (int32_t d = disk_blocks_ - 1; d >= 0; --d) free_disk_.push_back(d);
}

std::byte* KvHostTier::place(int32_t block, int32_t layer, int kv) {
  const size_t offset = layer_half_bytes_ * (2 * static_cast<size_t>(layer) + kv);
  if (!has_disk()) return slot_bytes(block) + offset;
  return placed_.at(block) + offset;
}

std::byte* KvHostTier::stage(int32_t block) {
  staging_.push_back(std::make_unique<std::byte[]>(block_bytes_));
  std::byte* p = staging_.back().get();
  placed_[block] = p;
  return p;
}

void KvHostTier::touch(int32_t block) {
  Where& w = where_[static_cast<size_t>(block)];
  if (w.slot >= 0) lru_.splice(lru_.begin(), lru_, w.lru);
}

void KvHostTier::make_resident(int32_t block, int32_t slot) {
  Where& w = where_[static_cast<size_t>(block)];
  w.slot = slot;
  lru_.push_front(block);
  w.lru = lru_.begin();
  placed_[block] = slot_bytes(slot);
}

// There is always one: an id holds one place at most, there are memory_blocks + disk_blocks
// ids, and a disk block is taken only when every memory slot holds a block.
int32_t KvHostTier::take_disk_block() {
  if (free_disk_.empty()) throw std::logic_error("KvHostTier: no free disk block");
  const int32_t d = free_disk_.back();
  free_disk_.pop_back();
  return d;
}

void KvHostTier::give_back_disk_block(int32_t block) { free_disk_.push_back(block); }

std::vector<KvBlockFailure> KvHostTier::prepare(const bricks_block_copy* copies, int32_t count) {
  if (!has_disk()) return {};
  placed_.clear();
  write_behind_.clear();
  staging_.clear();
  // Every host block of the job stays where it is until the job ends: an eviction must not
  // take the slot of a block that a later copy of the same job reads or writes.
  std::unordered_set<int32_t> pinned;
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    for (int32_t i = 0; i < cp.num_blocks; ++i) {
      if (cp.src_tier == BRICKS_TIER_HOST) pinned.insert(cp.src_block + i);
      if (cp.dst_tier == BRICKS_TIER_HOST) pinned.insert(cp.dst_block + i);
    }
  }
  std::vector<std::pair<int32_t, std::byte*>> reads, evictions;
  auto free_slot = [&]() -> int32_t {
    if (!free_slots_.empty()) {
      const int32_t s = free_slots_.back();
      free_slots_.pop_back();
      return s;
    }
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      const int32_t victim = *it;
      if (pinned.count(victim) != 0) continue;
      Where& v = where_[static_cast<size_t>(victim)];
      const int32_t s = v.slot;
      lru_.erase(std::next(it).base());
      v.slot = -1;
      evictions.emplace_back(victim, slot_bytes(s));
      return s;
    }
    return -1;
  };
  for (int32_t c = 0; c < count; ++c) {
    const bricks_block_copy& cp = copies[c];
    for (int32_t i = 0; i < cp.num_blocks; ++i) {
      if (cp.src_tier == BRICKS_TIER_HOST) {
        const int32_t h = cp.src_block + i;
        const Where& w = where_[static_cast<size_t>(h)];
        if (placed_.count(h) != 0) {
          touch(h);
        } else if (w.slot >= 0) {
          placed_[h] = slot_bytes(w.slot);
          touch(h);
        } else {
          // On disk: read into staging before the layer copies. Never written: the brick
          // reads bytes it never stored, which a zeroed buffer stands for.
          std::byte* buf = stage(h);
          if (w.disk >= 0) reads.emplace_back(h, buf);
        }
      }
      if (cp.dst_tier == BRICKS_TIER_HOST) {
        const int32_t h = cp.dst_block + i;
        Where& w = where_[static_cast<size_t>(h)];
        if (placed_.count(h) != 0) {
          if (w.slot >= 0) {
            touch(h);
          } else if (std::find(write_behind_.begin(), write_behind_.end(), h) ==
                     write_behind_.end()) {
            write_behind_.push_back(h);  // staged by a read of this job: written back after
          }
          continue;
        }
        if (w.slot >= 0) {
          placed_[h] = slot_bytes(w.slot);
          touch(h);
          continue;
        }
        const int32_t s = free_slot();
        if (s >= 0) {
          if (w.disk >= 0) give_back_disk_block(w.disk);  // its old bytes are overwritten
          w.disk = -1;
          make_resident(h, s);
        } else {
          stage(h);  // host memory is smaller than the job: to disk once the layers are in
          write_behind_.push_back(h);
        }
      }
    }
  }
  // Reads first: an eviction may take a disk block only after the reads of this job are done
  // with theirs.
  std::vector<KvBlockFailure> failed = disk_read(reads);
  for (const auto& e : evictions) where_[static_cast<size_t>(e.first)].disk = take_disk_block();
  std::vector<KvBlockFailure> lost = disk_write(evictions);
  counters_.evictions += static_cast<int64_t>(evictions.size());
  failed.insert(failed.end(), lost.begin(), lost.end());
  return failed;
}

std::vector<KvBlockFailure> KvHostTier::complete() {
  if (!has_disk()) return {};
  std::vector<std::pair<int32_t, std::byte*>> writes;
  for (int32_t h : write_behind_) {
    Where& w = where_[static_cast<size_t>(h)];
    if (w.disk < 0 && free_disk_.empty() && !free_slots_.empty()) {
      // A block read before it was ever written, then written, while memory had room: it
      // stays in memory.
      const int32_t s = free_slots_.back();
      free_slots_.pop_back();
      std::memcpy(slot_bytes(s), placed_.at(h), block_bytes_);
      make_resident(h, s);
      continue;
    }
    if (w.disk < 0) w.disk = take_disk_block();
    writes.emplace_back(h, placed_.at(h));
  }
  std::vector<KvBlockFailure> failed = disk_write(writes);
  placed_.clear();
  write_behind_.clear();
  staging_.clear();
  return failed;
}

std::vector<KvBlockFailure> KvHostTier::disk_write(
    const std::vector<std::pair<int32_t, std::byte*>>& jobs) {
  if (jobs.empty()) return {};
  std::vector<tier::BlockWrite> writes;
  writes.reserve(jobs.size());
  for (const auto& [h, bytes] : jobs) {
    writes.push_back({where_[static_cast<size_t>(h)].disk, bytes});
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<tier::BlockResult> results = file_->write(writes);
  counters_.seconds += disk_seconds_since(t0);
  std::vector<KvBlockFailure> failed;
  for (size_t j = 0; j < results.size(); ++j) {
    if (results[j].ok()) continue;
    // Its bytes are gone (the memory slot or staging buffer is reused): the block now lives
    // nowhere, and whoever held it fails when it is read back.
    const int32_t h = jobs[j].first;
    Where& w = where_[static_cast<size_t>(h)];
    give_back_disk_block(w.disk);
    w.disk = -1;
    failed.push_back({h, "host tier block " + std::to_string(h) +
                             " could not be written to the disk tier: " + results[j].error});
  }
  const tier::DiskTierCounters& fc = file_->counters();
  counters_.blocks_written = fc.blocks_written;
  counters_.bytes_written = fc.bytes_written;
  counters_.failed_writes = fc.failed_writes;
  return failed;
}

std::vector<KvBlockFailure> KvHostTier::disk_read(
    const std::vector<std::pair<int32_t, std::byte*>>& jobs) {
  if (jobs.empty()) return {};
  std::vector<tier::BlockRead> reads;
  reads.reserve(jobs.size());
  for (const auto& [h, bytes] : jobs) {
    reads.push_back({where_[static_cast<size_t>(h)].disk, bytes});
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<tier::BlockResult> results = file_->read(reads);
  counters_.seconds += disk_seconds_since(t0);
  std::vector<KvBlockFailure> failed;
  for (size_t j = 0; j < results.size(); ++j) {
    if (results[j].ok()) continue;
    const int32_t h = jobs[j].first;
    failed.push_back({h, "host tier block " + std::to_string(h) +
                             " could not be read back from the disk tier: " + results[j].error});
  }
  const tier::DiskTierCounters& fc = file_->counters();
  counters_.blocks_read = fc.blocks_read;
  counters_.bytes_read = fc.bytes_read;
  counters_.failed_reads = fc.failed_reads;
  counters_.checksum_failures = fc.checksum_failures;
  return failed;
}

std::vector<int32_t> KvHostTier::resident() const {
  if (!has_disk()) {
    std::vector<int32_t> all(static_cast<size_t>(memory_blocks_));
    for (int32_t b = 0; b < memory_blocks_; ++b) all[static_cast<size_t>(b)] = b;
    return all;
  }
  return {lru_.begin(), lru_.end()};
}

bool KvHostTier::on_disk(int32_t block) const { return disk_block_of(block) >= 0; }

int32_t KvHostTier::disk_block_of(int32_t block) const {
  if (!has_disk() || block < 0 || block >= num_blocks()) return -1;
  return where_[static_cast<size_t>(block)].disk;
}

}  // namespace bricks::engine
