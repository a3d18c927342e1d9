// Free space of one block tier (device or host) kept as runs of contiguous block ids, so
// that what a request holds stays in few, long runs and a swap moves it in few copies.
//
// The tier is cut into aligned *groups* of `group_blocks` blocks ([k*G, (k+1)*G), the last
// one possibly shorter). A request starts at a group boundary of the free run with the most
// room, and grows in place into the blocks after its last one; when those are taken it
// continues in a wholly free group, and only when none is left does it take pieces of
// other runs. Nothing is reserved ahead: a block is either held or free, so free counts are
// exact. Freed blocks coalesce with their free neighbours.
//
// The free runs are not stored: a bitmap of free blocks holds them (a run is a maximal
// stretch of set bits), beside a free count per group and a bitmap of the wholly free
// groups. Growing in place and taking the first wholly free group, what a decode step
// does, then cost a few word operations and allocate nothing; the searches over every run
// (a new request's placement, the fallbacks when no group is free) walk the bitmap a word
// at a time.
// Not thread-safe: one host thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
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
  int32_t num_free_runs() const;
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
  // A maximal free run [start, end).
  struct Run {
    int32_t start;
    int32_t end;
  };
  // Calls f(run) for every maximal free run in address order while f returns true.
  template <class F>
  void for_each_run(F f) const;
  // The first free block at or after `from`, or num_blocks_.
  int32_t next_free(int32_t from) const;
  // The first held block at or after `from`, or `limit` (<= num_blocks_) when there is
  // none before it.
  int32_t next_held(int32_t from, int32_t limit) const;
  // min(start + max, num_blocks_) without overflow; max >= 1.
  int32_t limit_after(int32_t start, int32_t max) const {
    return max >= num_blocks_ - start ? num_blocks_ : start + max;
  }
  // Takes [start, start + count), which is free, appending its ids to `out`.
  void carve(int32_t start, int32_t count, std::vector<int32_t>& out);
  // Marks [start, end) free (`free`) or held, keeping the group counts in step.
  void mark(int32_t start, int32_t end, bool free);
  // Blocks in group k (group_blocks_, or fewer for the last one).
  int32_t group_size(int32_t k) const;
  // The group that holds `block` (a shift for the usual power-of-two group size).
  int32_t group_of(int32_t block) const {
    return group_shift_ >= 0 ? block >> group_shift_ : block / group_blocks_;
  }
  // The first group boundary at or after `block`.
  int32_t group_ceil(int32_t block) const {
    return group_of(block + group_blocks_ - 1) * group_blocks_;
  }

  int32_t num_blocks_ = 0;
  int32_t group_blocks_ = 1;
  int32_t group_shift_ = 0;  // log2(group_blocks_), or -1 when it is no power of two
  int32_t num_free_ = 0;
  std::vector<uint64_t> free_;       // bit b: block b is free
  std::vector<int32_t> group_free_;  // [group] free blocks in it
  std::vector<uint64_t> whole_;      // bit k: group k is wholly free
  size_t first_whole_word_ = 0;      // no word of whole_ before this one has a bit set
};

}  // namespace bricks::kv_block_group
