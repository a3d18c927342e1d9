#include "view_carry.h"

namespace bricks::sched {

namespace {
constexpr uint64_t kMix = 0x9e3779b97f4a7c15ULL;  // Fibonacci hashing
}  // namespace

void ViewCarry::build_table() {
  size_t capacity = 16;
  uint32_t bits = 4;
  while (capacity < 2 * old_ids_.size()) {
    capacity *= 2;
    ++bits;
  }
  shift_ = 64 - bits;
  table_.assign(capacity, -1);
  const size_t mask = capacity - 1;
  for (size_t p = 0; p < old_ids_.size(); ++p) {
    size_t slot = static_cast<size_t>((old_ids_[p] * kMix) >> shift_);
    while (table_[slot] >= 0) {
      if (old_ids_[static_cast<size_t>(table_[slot])] == old_ids_[p]) break;  // first one wins
      slot = (slot + 1) & mask;
    }
    if (table_[slot] < 0) table_[slot] = static_cast<int32_t>(p);
  }
}

int32_t ViewCarry::find_old(uint64_t id) const {
  const size_t mask = table_.size() - 1;
  size_t slot = static_cast<size_t>((id * kMix) >> shift_);
  while (table_[slot] >= 0) {
    const int32_t p = table_[slot];
    if (old_ids_[static_cast<size_t>(p)] == id) return p;
    slot = (slot + 1) & mask;
  }
  return -1;
}

void ViewCarry::match(const bricks_request_view* views, int32_t n) {
  old_ids_.swap(ids_);
  const int32_t old_n = static_cast<int32_t>(old_ids_.size());
  ids_.resize(static_cast<size_t>(n));
  prev_.assign(static_cast<size_t>(n), -1);
  next_.assign(old_ids_.size(), -1);
  bool hashed = false;
  unchanged_ = n == old_n;
  int32_t cursor = 0;
  for (int32_t i = 0; i < n; ++i) {
    const uint64_t id = views[i].id;
    ids_[static_cast<size_t>(i)] = id;
    int32_t p = -1;
    if (cursor < old_n && old_ids_[static_cast<size_t>(cursor)] == id) {
      p = cursor;
    } else {
      unchanged_ = false;
      if (!hashed && old_n > 0) {
        build_table();
        hashed = true;
      }
      p = hashed ? find_old(id) : -1;
    }
    if (p >= 0 && next_[static_cast<size_t>(p)] >= 0) p = -1;  // a repeated id
    if (p >= 0) {
      next_[static_cast<size_t>(p)] = i;
      prev_[static_cast<size_t>(i)] = p;
      if (p >= cursor) cursor = p + 1;
    }
  }
}

}  // namespace bricks::sched
