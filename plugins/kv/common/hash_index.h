// A map from 64-bit chain hash (prefix_hash.h) to block id for a pool of a known size:
// open addressing with linear probing in one array sized once, so that finding, adding
// and dropping a cached block costs no allocation and about one cache line. The keys are
// already well mixed, so their low bits pick the slot.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bricks::kvc {

class HashIndex {
 public:
  HashIndex() = default;
  // Room for `max_entries` keys at most half full.
  explicit HashIndex(int32_t max_entries) {
    size_t capacity = 16;
    while (capacity < 2 * static_cast<size_t>(max_entries < 0 ? 0 : max_entries)) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
  }

  // The block stored under `key`, or -1.
  int32_t find(uint64_t key) const {
    for (size_t i = key & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.block < 0) return -1;
      if (s.key == key) return s.block;
    }
  }

  // Stores `block` under `key`; false, changing nothing, when the key is already there.
  // The caller keeps the entries within the max_entries the index was made for.
  bool insert(uint64_t key, int32_t block) {
    size_t i = key & mask_;
    for (; slots_[i].block >= 0; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return false;
    }
    slots_[i] = Slot{key, block};
    return true;
  }

  // Drops `key` when it holds `block`; true when it did.
  bool erase(uint64_t key, int32_t block) {
    size_t i = key & mask_;
    for (; slots_[i].block >= 0; i = (i + 1) & mask_) {
      if (slots_[i].key != key) continue;
      if (slots_[i].block != block) return false;
      // Backward-shift deletion: pull later entries of the probe run into the hole when
      // their home slot does not lie (cyclically) between the hole and them.
      size_t hole = i;
      for (size_t j = (i + 1) & mask_; slots_[j].block >= 0; j = (j + 1) & mask_) {
        const size_t home = slots_[j].key & mask_;
        if (((j - home) & mask_) >= ((j - hole) & mask_)) {
          slots_[hole] = slots_[j];
          hole = j;
        }
      }
      slots_[hole] = Slot{};
      return true;
    }
    return false;
  }

 private:
  struct Slot {
    uint64_t key = 0;
    int32_t block = -1;  // -1: empty
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace bricks::kvc
