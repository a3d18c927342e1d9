// An exact multiset of doubles, kept as (value, count) runs: the gaps between tokens that
// a report's ITL and TBT percentiles are taken over. A long simulated run emits hundreds of
// millions of them but only a few distinct values per engine step (every request decoding
// in a step sees the same gap), so runs cost memory per distinct value, not per sample,
// and the statistics come out bit for bit as from the sorted list of every sample.
//
// Not thread-safe, const members included: queries sort the runs added since the last one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bricks::engine {

class ValueCounts {
 public:
  struct Run {
    double value = 0;
    int64_t count = 0;
  };

  // Adds `count` copies of `value`; a negative count takes back copies added before (the
  // total of every value must end >= 0). O(1) amortised: a repeat of the last value added
  // extends its run.
  void add(double value, int64_t count = 1);
  // Adds every sample of `other`.
  void add_all(const ValueCounts& other);
  void clear();

  // Samples held (the sum of the counts).
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The distinct values, ascending, each with its count (> 0).
  const std::vector<Run>& runs() const;
  // The sample at `rank` (0-based) of the ascending order; rank < size().
  double at(int64_t rank) const;
  // The samples' sum, added one by one in ascending order (as std::accumulate over the
  // sorted samples would add them).
  double sum() const;

 private:
  // Sorts the runs added since the last call into the sorted prefix, merging equal values
  // and dropping those whose count is 0.
  void settle() const;

  mutable std::vector<Run> runs_;
  mutable size_t sorted_ = 0;          // runs_[0, sorted_) are sorted and distinct
  mutable std::vector<int64_t> ends_;  // cumulative counts of runs_[0, sorted_)
  int64_t size_ = 0;
};

}  // namespace bricks::engine
