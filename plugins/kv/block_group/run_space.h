// Free space of one block tier (device or host) kept as runs of contiguous block ids, so
// that what a request holds stays in few, long runs and a swap moves it in few copies.
//
// The tier is cut into aligned *groups* of `group_blocks` blocks ([k*G, (k+1)*G), the last
// one possibly shorter). A request starts at a group boundary of the free run with the most
// room, and grows in place into the blocks after its last one; when those are taken it
// continues in a wholly free group, and only when none is left does it take pieces of
// other runs. Nothing is reserved ahead: a block is either held or free, so free counts are
// exact. Freed blocks coalesce with their free neighbours.
// Not thread-safe: one host thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace bricks::kv_block_group {

class RunSpace {
 public:
  RunSpace() = default;
  // All `num_blocks` blocks free; group_blocks >= 1.
  RunSpace(int32_t num_blocks, int32_t group_blocks);

  int32_t num_blocks() const { return num_blocks_; }
  int32_t num_free() const { return num_free_; }
  int32_t group_blocks() const { return group_blocks_; }
  // Maximal free runs, for tests and reports.
  int32_t num_free_runs() const { return static_cast<int32_t>(free_.size()); }
  bool is_free(int32_t block) const;

  // Appends up to `max` blocks starting exactly at `start` (while they are free) to `out`.
  // Returns how many; 0 when `start` is out of range or held.
  int32_t take_at(int32_t start, int32_t max, std::vector<int32_t>& out);
  // Appends up to `max` blocks from the first wholly free group, in address order, going
  // on into the free blocks after it. Returns how many; 0 when no group is wholly free.
  int32_t take_group(int32_t max, std::vector<int32_t>& out);
  // Appends up to `max` blocks from the start of the longest free run (the lowest such
  // run on ties). Returns how many; 0 when nothing is free.
  int32_t take_longest(int32_t max, std::vector<int32_t>& out);
  // Appends exactly `n` blocks: one contiguous run when some free run holds n (the shortest
  // such run, so long runs stay whole), otherwise the longest runs first. The caller has
  // checked num_free() >= n.
  void take_packed(int32_t n, std::vector<int32_t>& out);
  // Appends `n` contiguous blocks from the first group boundary of the free run with the
  // most room after such a boundary (the most room to grow), if that room holds n. Returns
  // false, taking nothing, otherwise.
  bool take_roomiest(int32_t n, std::vector<int32_t>& out);
  // Appends exactly `n` blocks for a request that holds `held` (in order). A request that
  // holds nothing is placed whole (take_roomiest) where it can; otherwise its last block is
  // extended in place, then wholly free groups are taken, then the longest runs. The
  // caller has checked num_free() >= n.
  void take_for(const std::vector<int32_t>& held, int32_t n, std::vector<int32_t>& out);

  // Frees blocks (each must be held); contiguous ids are freed as one run.
  void release(const std::vector<int32_t>& blocks);
  void release_run(int32_t start, int32_t count);

 private:
  // The free run that contains `block`, or free_.end().
  std::map<int32_t, int32_t>::iterator run_containing(int32_t block);
  // Takes [start, start + count) out of the free run `it`, which contains it.
  void carve(std::map<int32_t, int32_t>::iterator it, int32_t start, int32_t count,
             std::vector<int32_t>& out);
  // Every change to free_ goes through these three, which keep group_runs_ in step.
  void add_run(int32_t start, int32_t length);
  void erase_run(std::map<int32_t, int32_t>::iterator it);
  void shorten_run(std::map<int32_t, int32_t>::iterator it, int32_t length);
  // Whether the free run [start, start + length) holds a whole group.
  bool holds_group(int32_t start, int32_t length) const;

  int32_t num_blocks_ = 0;
  int32_t group_blocks_ = 1;
  int32_t num_free_ = 0;
  std::map<int32_t, int32_t> free_;  // run start -> run length, disjoint and never adjacent
  // Starts of the free runs that hold a whole group, so take_group finds the first without
  // walking every run (a growing pool leaves many short runs between requests).
  std::set<int32_t> group_runs_;
};

}  // namespace bricks::kv_block_group
