// bricks/view_carry.hpp: carries per-request state of a scheduler from one step to the
// next without a hash lookup per request and step.
//
// State kept in arrays indexed by view position (the order the host passes requests in)
// moves to this step's positions through match(): each view is matched by id to its
// position among the previous step's views. The host passes views in arrival order, so the
// requests that stay keep their relative order: matching walks both lists once, and hashes
// the previous ids only after the first mismatch (a request finished or arrived), so a step
// where nothing changed costs one comparison per request and writes nothing.
//
// sort_carried() keeps an order of view indices sorted by a strict total order: it reuses
// the previous step's order, merges in the new requests, and sorts from scratch only when
// keys changed. The result is the one std::sort gives (a strict total order has one sorted
// arrangement). Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "bricks/abi.h"

namespace bricks::sched {

class ViewCarry {
 public:
  // Matches `views` to the views of the previous call by id, then remembers them. An id seen
  // twice in one call matches at most once.
  void match(const bricks_request_view* views, int32_t n);
  // View i's position in the previous call, or -1 when it is new there.
  int32_t prev(int32_t i) const { return identity_ ? i : prev_[static_cast<size_t>(i)]; }
  // The current position of the previous call's view p, or -1 when it is gone.
  int32_t next(int32_t p) const { return identity_ ? p : next_[static_cast<size_t>(p)]; }
  // How many views the previous call had.
  int32_t num_prev() const { return static_cast<int32_t>(identity_ ? ids_.size() : next_.size()); }
  // Whether the ids are those of the previous call, in the same order.
  bool unchanged() const { return unchanged_; }

  // The ids the last match() or keep() remembered, in their order. A caller that reads every
  // view anyway may compare the ids itself on the way, and call keep() in place of match()
  // when this call has as many and each equals the one at its position.
  const uint64_t* last_ids() const { return ids_.data(); }
  int32_t num_last_ids() const { return static_cast<int32_t>(ids_.size()); }
  // What match() does when the ids are those of the last call, in the same order.
  void keep() {
    unchanged_ = true;
    identity_ = true;
  }

  // Rewrites `order` (view indices of the previous call, sorted by `less`) as the view
  // indices of this call for which `member(i)` holds, sorted by `less`.
  template <class Member, class Less>
  void sort_carried(std::vector<int32_t>& order, int32_t n, Member member, Less less);

 private:
  static constexpr uint64_t kMix = 0x9e3779b97f4a7c15ULL;  // Fibonacci hashing

  void build_table();
  int32_t find_old(uint64_t id) const;

  std::vector<uint64_t> ids_, old_ids_;  // this call's and the previous call's ids
  // When the ids are those of the previous call in the same order (identity_), prev_ and
  // next_ are stale and every view keeps its position; old_ids_ is read only by match.
  std::vector<int32_t> prev_;            // [this call's view] previous position or -1
  std::vector<int32_t> next_;            // [previous position] this call's view or -1
  std::vector<int32_t> table_;           // open addressing over old_ids_ positions; -1 empty
  std::vector<int32_t> fresh_, merged_;  // scratch for sort_carried
  std::vector<uint8_t> listed_;          // scratch for sort_carried: [view] in the order
  uint32_t shift_ = 64;
  bool unchanged_ = false;
  bool identity_ = false;
};

template <class Member, class Less>
void ViewCarry::sort_carried(std::vector<int32_t>& order, int32_t n, Member member, Less less) {
  listed_.assign(static_cast<size_t>(n), 0);
  size_t kept = 0;
  for (int32_t p : order) {
    const int32_t i = p >= 0 && p < num_prev() ? next(p) : -1;
    if (i < 0 || !member(i)) continue;
    order[kept++] = i;
    listed_[static_cast<size_t>(i)] = 1;
  }
  order.resize(kept);
  // New requests, and those carried over that were no members before.
  fresh_.clear();
  for (int32_t i = 0; i < n; ++i) {
    if (!listed_[static_cast<size_t>(i)] && member(i)) fresh_.push_back(i);
  }
  if (!fresh_.empty()) {
    std::sort(fresh_.begin(), fresh_.end(), less);
    merged_.resize(order.size() + fresh_.size());
    std::merge(order.begin(), order.end(), fresh_.begin(), fresh_.end(), merged_.begin(), less);
    order.swap(merged_);
  }
  if (!std::is_sorted(order.begin(), order.end(), less)) {
    std::sort(order.begin(), order.end(), less);
  }
}

inline void ViewCarry::build_table() {
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

inline int32_t ViewCarry::find_old(uint64_t id) const {
  const size_t mask = table_.size() - 1;
  size_t slot = static_cast<size_t>((id * kMix) >> shift_);
  while (table_[slot] >= 0) {
    const int32_t p = table_[slot];
    if (old_ids_[static_cast<size_t>(p)] == id) return p;
    slot = (slot + 1) & mask;
  }
  return -1;
}

inline void ViewCarry::match(const bricks_request_view* views, int32_t n) {
  // The leading requests that kept their position, compared in place with the previous
  // call's ids: a step where nothing changed (the whole list) writes nothing.
  const int32_t old_n = static_cast<int32_t>(ids_.size());
  int32_t same = 0;
  {
    const uint64_t* const ids = ids_.data();
    const int32_t common = std::min(n, old_n);
    while (same < common && views[same].id == ids[same]) ++same;
  }
  if (same == n && n == old_n) {
    keep();
    return;
  }
  identity_ = false;
  old_ids_.swap(ids_);
  ids_.resize(static_cast<size_t>(n));
  std::copy(old_ids_.begin(), old_ids_.begin() + same, ids_.begin());
  prev_.resize(static_cast<size_t>(n));
  next_.resize(old_ids_.size());
  std::iota(prev_.begin(), prev_.begin() + same, 0);
  std::fill(prev_.begin() + same, prev_.end(), -1);
  std::iota(next_.begin(), next_.begin() + same, 0);
  std::fill(next_.begin() + same, next_.end(), -1);
  bool hashed = false;
  unchanged_ = false;  // same < n or n != old_n
  int32_t cursor = same;
  for (int32_t i = same; i < n; ++i) {
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
