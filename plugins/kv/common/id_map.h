// A map from request id to the brick's record of that request, for the lookups every step
// makes (allocate, commit, build_page_table): open addressing over an array of slots that
// name records kept in a deque, so a lookup touches a slot and its record rather than a
// bucket list of separately allocated nodes.
//
// Records never move: references and iterators stay valid until the record is erased, as
// with std::unordered_map. The subset of its interface kept here (find, end, emplace, erase,
// size, it->first / it->second) is what the kv bricks use.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace bricks::kvc {

template <class T>
class IdMap {
 public:
  struct Entry {
    uint64_t first = 0;  // the id
    T second{};          // the record
  };
  using iterator = Entry*;

  iterator end() const { return nullptr; }
  size_t size() const { return size_; }

  // The record of `id`, or end().
  iterator find(uint64_t id) {
    if (slots_.empty()) return end();
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry < 0) return end();
      if (s.id == id) return &entries_[static_cast<size_t>(s.entry)];
    }
  }

  // Adds `value` as the record of `id` unless it has one; the record and whether it was added.
  std::pair<iterator, bool> emplace(uint64_t id, T value) {
    if (iterator it = find(id); it != end()) return {it, false};
    if (2 * (size_ + 1) > slots_.size()) grow();
    int32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
      entries_[static_cast<size_t>(index)] = Entry{id, std::move(value)};
    } else {
      index = static_cast<int32_t>(entries_.size());
      entries_.push_back(Entry{id, std::move(value)});
    }
    place(id, index);
    ++size_;
    return {&entries_[static_cast<size_t>(index)], true};
  }

  // Drops the record `it` (from find or emplace); its memory is freed at once.
  void erase(iterator it) {
    const uint64_t id = it->first;
    size_t i = home(id);
    while (slots_[i].id != id || slots_[i].entry < 0) i = (i + 1) & mask_;
    const int32_t index = slots_[i].entry;
    // Backward-shift deletion keeps every probe run unbroken without tombstones.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].entry >= 0; j = (j + 1) & mask_) {
      const size_t h = home(slots_[j].id);
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    entries_[static_cast<size_t>(index)] = Entry{};
    free_.push_back(index);
    --size_;
  }

 private:
  struct Slot {
    uint64_t id = 0;
    int32_t entry = -1;  // index in entries_; -1: empty
  };

  // Ids are often consecutive: a multiplicative hash spreads them over the slots.
  size_t home(uint64_t id) const {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }
  void place(uint64_t id, int32_t entry) {
    size_t i = home(id);
    while (slots_[i].entry >= 0) i = (i + 1) & mask_;
    slots_[i] = Slot{id, entry};
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t capacity = old.empty() ? 64 : 2 * old.size();
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64;
    for (size_t c = capacity; c > 1; c /= 2) --shift_;
    for (const Slot& s : old) {
      if (s.entry >= 0) place(s.id, s.entry);
    }
  }

  std::deque<Entry> entries_;  // records, by index; erased ones are reused
  std::vector<int32_t> free_;  // indices of erased records
  std::vector<Slot> slots_;    // at most half full; size a power of two
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace bricks::kvc
