#include "run_space.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace bricks::kv_block_group {

RunSpace::RunSpace(int32_t num_blocks, int32_t group_blocks)
    : num_blocks_(num_blocks), group_blocks_(std::max(group_blocks, 1)), num_free_(num_blocks) {
  if (num_blocks_ > 0) add_run(0, num_blocks_);
}

bool RunSpace::holds_group(int32_t start, int32_t length) const {
  const int32_t g = group_blocks_;
  const int32_t run_end = start + length;
  const int32_t group = (start + g - 1) / g * g;
  const int32_t group_end = std::min(group + g, num_blocks_);
  return group < run_end && group_end <= run_end;
}

void RunSpace::add_run(int32_t start, int32_t length) {
  free_.emplace(start, length);
  if (holds_group(start, length)) group_runs_.insert(start);
}

void RunSpace::erase_run(std::map<int32_t, int32_t>::iterator it) {
  group_runs_.erase(it->first);
  free_.erase(it);
}

void RunSpace::shorten_run(std::map<int32_t, int32_t>::iterator it, int32_t length) {
  it->second = length;
  if (!holds_group(it->first, length)) group_runs_.erase(it->first);
}

std::map<int32_t, int32_t>::iterator RunSpace::run_containing(int32_t block) {
  auto it = free_.upper_bound(block);
  if (it == free_.begin()) return free_.end();
  --it;
  return block < it->first + it->second ? it : free_.end();
}

bool RunSpace::is_free(int32_t block) const {
  auto it = free_.upper_bound(block);
  if (it == free_.begin()) return false;
  --it;
  return block < it->first + it->second;
}

void RunSpace::carve(std::map<int32_t, int32_t>::iterator it, int32_t start, int32_t count,
                     std::vector<int32_t>& out) {
  const int32_t run_start = it->first;
  const int32_t run_end = it->first + it->second;
  const int32_t end = start + count;
  if (start > run_start) {
    shorten_run(it, start - run_start);
  } else {
    erase_run(it);
  }
  if (end < run_end) add_run(end, run_end - end);
  for (int32_t b = start; b < end; ++b) out.push_back(b);
  num_free_ -= count;
}

int32_t RunSpace::take_at(int32_t start, int32_t max, std::vector<int32_t>& out) {
  if (max <= 0 || start < 0 || start >= num_blocks_) return 0;
  auto it = run_containing(start);
  if (it == free_.end()) return 0;
  const int32_t count = std::min(max, it->first + it->second - start);
  carve(it, start, count, out);
  return count;
}

int32_t RunSpace::take_group(int32_t max, std::vector<int32_t>& out) {
  if (max <= 0 || group_runs_.empty()) return 0;
  // The first run in address order that holds a whole group.
  const auto it = free_.find(*group_runs_.begin());
  const int32_t g = group_blocks_;
  const int32_t run_end = it->first + it->second;
  const int32_t group = (it->first + g - 1) / g * g;
  const int32_t count = std::min(max, run_end - group);
  carve(it, group, count, out);
  return count;
}

int32_t RunSpace::take_longest(int32_t max, std::vector<int32_t>& out) {
  if (max <= 0 || free_.empty()) return 0;
  auto best = free_.begin();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  const int32_t count = std::min(max, best->second);
  carve(best, best->first, count, out);
  return count;
}

void RunSpace::take_packed(int32_t n, std::vector<int32_t>& out) {
  if (n <= 0) return;
  auto fit = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= n && (fit == free_.end() || it->second < fit->second)) fit = it;
  }
  if (fit != free_.end()) {
    carve(fit, fit->first, n, out);
    return;
  }
  while (n > 0) {
    const int32_t got = take_longest(n, out);
    if (got == 0) throw std::logic_error("RunSpace::take_packed: fewer free blocks than asked");
    n -= got;
  }
}

bool RunSpace::take_roomiest(int32_t n, std::vector<int32_t>& out) {
  const int32_t g = group_blocks_;
  auto best = free_.end();
  int32_t best_room = 0;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    const int32_t group = (it->first + g - 1) / g * g;
    const int32_t room = it->first + it->second - group;
    if (room > best_room) {
      best = it;
      best_room = room;
    }
  }
  if (best == free_.end() || best_room < n) return false;
  const int32_t group = (best->first + g - 1) / g * g;
  carve(best, group, n, out);
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
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first < start + count) {
    throw std::logic_error("RunSpace::release_run: block " + std::to_string(next->first) +
                           " is already free");
  }
  int32_t new_start = start;
  int32_t new_len = count;
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    const int32_t prev_end = prev->first + prev->second;
    if (prev_end > start) {
      throw std::logic_error("RunSpace::release_run: block " + std::to_string(start) +
                             " is already free");
    }
    if (prev_end == start) {
      new_start = prev->first;
      new_len += prev->second;
      erase_run(prev);
    }
  }
  if (next != free_.end() && next->first == start + count) {
    new_len += next->second;
    erase_run(next);
  }
  add_run(new_start, new_len);
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
