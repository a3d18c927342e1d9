#include "run_space.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace bricks::kv_block_group {

namespace {

constexpr int32_t kWordBits = 64;

size_t words_for(int64_t bits) { return static_cast<size_t>((bits + kWordBits - 1) / kWordBits); }

// Bits [lo, hi) of a word set, 0 <= lo < hi <= 64.
uint64_t bit_range(int32_t lo, int32_t hi) {
  const uint64_t upper = hi == kWordBits ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return upper & (~uint64_t{0} << lo);
}

}  // namespace

RunSpace::RunSpace(int32_t num_blocks, int32_t group_blocks)
    : num_blocks_(std::max(num_blocks, 0)), group_blocks_(std::max(group_blocks, 1)) {
  group_shift_ = (group_blocks_ & (group_blocks_ - 1)) == 0
                     ? std::countr_zero(static_cast<uint32_t>(group_blocks_))
                     : -1;
  const int32_t groups = group_of(num_blocks_ + group_blocks_ - 1);
  free_.assign(words_for(num_blocks_), 0);
  group_free_.assign(static_cast<size_t>(groups), 0);
  whole_.assign(words_for(groups), 0);
  if (num_blocks_ > 0) mark(0, num_blocks_, true);
  num_free_ = num_blocks_;
}

int32_t RunSpace::group_size(int32_t k) const {
  return std::min(group_blocks_, num_blocks_ - k * group_blocks_);
}

void RunSpace::mark(int32_t start, int32_t end, bool free) {
  for (int32_t b = start; b < end;) {
    const size_t w = static_cast<size_t>(b / kWordBits);
    const int32_t lo = b % kWordBits;
    const int32_t hi = static_cast<int32_t>(std::min<int64_t>(kWordBits, lo + (end - b)));
    const uint64_t bits = bit_range(lo, hi);
    free_[w] = free ? free_[w] | bits : free_[w] & ~bits;
    b += hi - lo;
  }
  for (int32_t k = group_of(start); k * group_blocks_ < end; ++k) {
    const int32_t lo = std::max(start, k * group_blocks_);
    const int32_t hi = std::min(end, (k + 1) * group_blocks_);
    int32_t& count = group_free_[static_cast<size_t>(k)];
    count += free ? hi - lo : lo - hi;
    const size_t w = static_cast<size_t>(k / kWordBits);
    const uint64_t bit = uint64_t{1} << (k % kWordBits);
    if (count == group_size(k)) {
      whole_[w] |= bit;
      first_whole_word_ = std::min(first_whole_word_, w);
    } else {
      whole_[w] &= ~bit;
    }
  }
}

int32_t RunSpace::next_free(int32_t from) const {
  if (from >= num_blocks_) return num_blocks_;
  size_t w = static_cast<size_t>(from / kWordBits);
  uint64_t bits = free_[w] & (~uint64_t{0} << (from % kWordBits));
  while (bits == 0) {
    if (++w == free_.size()) return num_blocks_;
    bits = free_[w];
  }
  // Bits past the last block are never set.
  return static_cast<int32_t>(w) * kWordBits + std::countr_zero(bits);
}

int32_t RunSpace::next_held(int32_t from, int32_t limit) const {
  if (from >= limit) return limit;
  size_t w = static_cast<size_t>(from / kWordBits);
  const size_t last = static_cast<size_t>((limit - 1) / kWordBits);
  uint64_t bits = ~free_[w] & (~uint64_t{0} << (from % kWordBits));
  while (bits == 0) {
    if (++w > last) return limit;
    bits = ~free_[w];
  }
  return std::min(limit, static_cast<int32_t>(w) * kWordBits + std::countr_zero(bits));
}

template <class F>
void RunSpace::for_each_run(F f) const {
  int32_t start = -1;  // the start of the run the walk is in, -1 between runs
  for (size_t w = 0; w < free_.size(); ++w) {
    const uint64_t bits = free_[w];
    // Words wholly inside a run or between runs change nothing.
    if (bits == (start < 0 ? uint64_t{0} : ~uint64_t{0})) continue;
    const int32_t base = static_cast<int32_t>(w) * kWordBits;
    int32_t pos = 0;
    while (pos < kWordBits) {
      const uint64_t next = (start < 0 ? bits : ~bits) & (~uint64_t{0} << pos);
      if (next == 0) break;
      pos = std::countr_zero(next);
      if (start < 0) {
        start = base + pos;
      } else {
        if (!f(Run{start, base + pos})) return;
        start = -1;
      }
    }
  }
  // Bits past the last block are never set, so only a run that ends with the tier's last
  // word is still open.
  if (start >= 0) f(Run{start, num_blocks_});
}

int32_t RunSpace::num_free_runs() const {
  int32_t runs = 0;
  for_each_run([&](Run) {
    ++runs;
    return true;
  });
  return runs;
}

bool RunSpace::is_free(int32_t block) const {
  return block >= 0 && block < num_blocks_ &&
         (free_[static_cast<size_t>(block / kWordBits)] >> (block % kWordBits) & 1) != 0;
}

void RunSpace::carve(int32_t start, int32_t count, std::vector<int32_t>& out) {
  mark(start, start + count, false);
  for (int32_t b = start; b < start + count; ++b) out.push_back(b);
  num_free_ -= count;
}

int32_t RunSpace::take_at(int32_t start, int32_t max, std::vector<int32_t>& out) {
  if (max <= 0 || start < 0 || start >= num_blocks_ || !is_free(start)) return 0;
  const int32_t count = next_held(start, limit_after(start, max)) - start;
  carve(start, count, out);
  return count;
}

int32_t RunSpace::take_group(int32_t max, std::vector<int32_t>& out) {
  if (max <= 0) return 0;
  // The first wholly free group is the first boundary of the first run in address order
  // that holds a whole group: an earlier boundary in its run would be a wholly free group.
  size_t w = first_whole_word_;
  while (w < whole_.size() && whole_[w] == 0) ++w;
  first_whole_word_ = w;
  if (w == whole_.size()) return 0;
  const int32_t group =
      (static_cast<int32_t>(w) * kWordBits + std::countr_zero(whole_[w])) * group_blocks_;
  const int32_t count = next_held(group, limit_after(group, max)) - group;
  carve(group, count, out);
  return count;
}

int32_t RunSpace::take_longest(int32_t max, std::vector<int32_t>& out) {
  if (max <= 0 || num_free_ == 0) return 0;
  Run best{num_blocks_, num_blocks_};
  for_each_run([&](Run r) {
    if (best.start == num_blocks_ || r.end - r.start > best.end - best.start) best = r;
    return true;
  });
  const int32_t count = std::min(max, best.end - best.start);
  carve(best.start, count, out);
  return count;
}

void RunSpace::take_packed(int32_t n, std::vector<int32_t>& out) {
  if (n <= 0) return;
  Run fit{num_blocks_, num_blocks_};
  for_each_run([&](Run r) {
    const int32_t length = r.end - r.start;
    if (length >= n && (fit.start == num_blocks_ || length < fit.end - fit.start)) fit = r;
    return length != n;  // nothing shorter holds n, and later ties lose to the first
  });
  if (fit.start < num_blocks_) {
    carve(fit.start, n, out);
    return;
  }
  while (n > 0) {
    const int32_t got = take_longest(n, out);
    if (got == 0) throw std::logic_error("RunSpace::take_packed: fewer free blocks than asked");
    n -= got;
  }
}

bool RunSpace::take_roomiest(int32_t n, std::vector<int32_t>& out) {
  int32_t best_group = -1;
  int32_t best_room = 0;
  for_each_run([&](Run r) {
    // Only a run longer than the best room can have more room.
    if (r.end - r.start > best_room) {
      const int32_t group = group_ceil(r.start);
      if (r.end - group > best_room) {
        best_group = group;
        best_room = r.end - group;
      }
    }
    return true;
  });
  if (best_group < 0 || best_room < n) return false;
  carve(best_group, n, out);
  return true;
}

void RunSpace::take_for(const std::vector<int32_t>& held, int32_t n, std::vector<int32_t>& out) {
  if (n <= 0) return;
  if (held.empty() && take_roomiest(n, out)) return;
  // `out` may be `held` itself: read the last block before appending.
  int32_t next = held.empty() ? -1 : held.back() + 1;
  while (n > 0) {
    int32_t got = next >= 0 ? take_at(next, n, out) : 0;
    if (got == 0) got = take_group(n, out);
    if (got == 0) got = take_longest(n, out);
    if (got == 0) throw std::logic_error("RunSpace::take_for: fewer free blocks than asked");
    n -= got;
    next = out.back() + 1;
  }
}

void RunSpace::release_run(int32_t start, int32_t count) {
  if (count <= 0) return;
  if (start < 0 || start + count > num_blocks_) {
    throw std::logic_error("RunSpace::release_run: blocks " + std::to_string(start) + "+" +
                           std::to_string(count) + " are outside the tier");
  }
  const int32_t end = start + count;
  const int32_t first_free = next_free(start);
  if (first_free < end) {
    // Name the first free run that starts inside the range, else `start` itself (the run
    // that holds it starts before the range).
    int32_t named = first_free;
    if (first_free == start && start > 0 && is_free(start - 1)) {
      const int32_t later = next_free(next_held(start, num_blocks_));
      named = later < end ? later : start;
    }
    throw std::logic_error("RunSpace::release_run: block " + std::to_string(named) +
                           " is already free");
  }
  mark(start, end, true);
  num_free_ += count;
}

void RunSpace::release(const std::vector<int32_t>& blocks) {
  size_t i = 0;
  while (i < blocks.size()) {
    size_t j = i + 1;
    while (j < blocks.size() && blocks[j] == blocks[j - 1] + 1) ++j;
    release_run(blocks[i], static_cast<int32_t>(j - i));
    i = j;
  }
}

}  // namespace bricks::kv_block_group
