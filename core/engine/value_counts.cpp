#include "engine/value_counts.h"

#include <algorithm>
#include <iterator>

namespace bricks::engine {

void ValueCounts::add(double value, int64_t count) {
  if (count == 0) return;
  size_ += count;
  if (runs_.size() > sorted_ && runs_.back().value == value) {
    runs_.back().count += count;
    return;
  }
  runs_.push_back({value, count});
  // Keep the unsorted tail no larger than the sorted part (and a floor), so that sorting
  // costs O(log) amortised per run and memory stays within twice the distinct values.
  if (runs_.size() - sorted_ > std::max<size_t>(sorted_, size_t{1} << 16)) settle();
}

void ValueCounts::add_all(const ValueCounts& other) {
  for (const Run& r : other.runs()) add(r.value, r.count);
}

void ValueCounts::clear() {
  runs_.clear();
  ends_.clear();
  sorted_ = 0;
  size_ = 0;
}

void ValueCounts::settle() const {
  if (sorted_ == runs_.size()) return;
  const auto by_value = [](const Run& a, const Run& b) { return a.value < b.value; };
  const auto mid = runs_.begin() + static_cast<std::ptrdiff_t>(sorted_);
  std::sort(mid, runs_.end(), by_value);
  std::inplace_merge(runs_.begin(), mid, runs_.end(), by_value);
  size_t out = 0;
  for (size_t i = 0; i < runs_.size(); ++i) {
    if (out > 0 && runs_[out - 1].value == runs_[i].value) {
      runs_[out - 1].count += runs_[i].count;
    } else {
      runs_[out++] = runs_[i];
    }
  }
  runs_.resize(out);
  runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [](const Run& r) { return r.count == 0; }),
              runs_.end());
  sorted_ = runs_.size();
  ends_.resize(runs_.size());
  int64_t end = 0;
  for (size_t i = 0; i < runs_.size(); ++i) ends_[i] = end += runs_[i].count;
}

const std::vector<ValueCounts::Run>& ValueCounts::runs() const {
  settle();
  return runs_;
}

double ValueCounts::at(int64_t rank) const {
  settle();
  const auto it = std::upper_bound(ends_.begin(), ends_.end(), rank);
  return runs_[static_cast<size_t>(std::distance(ends_.begin(), it))].value;
}

double ValueCounts::sum() const {
  double s = 0;
  for (const Run& r : runs()) {
    for (int64_t i = 0; i < r.count; ++i) s = s + r.value;
  }
  return s;
}

}  // namespace bricks::engine
