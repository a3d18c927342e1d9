#include "report/report_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace bricks::engine {

double percentile(const std::vector<double>& sorted, double p) {
  return percentile_of(
      sorted.size(), [&](size_t i) { return sorted[i]; }, p);
}

double counts_percentile(const ValueCounts& values, double p, int64_t infinities) {
  const auto finite = static_cast<size_t>(values.size());
  return percentile_of(
      finite + static_cast<size_t>(infinities),
      [&](size_t i) {
        return i < finite ? values.at(static_cast<int64_t>(i))
                          : std::numeric_limits<double>::infinity();
      },
      p);
}

Distribution Distribution::of(std::vector<double> v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  d.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  d.median = percentile(v, 50);
  d.p90 = percentile(v, 90);
  d.p99 = percentile(v, 99);
  d.max = v.back();
  return d;
}

Distribution Distribution::of_counts(const ValueCounts& values) {
  Distribution d;
  d.count = static_cast<size_t>(values.size());
  if (values.empty()) return d;
  d.mean = values.sum() / static_cast<double>(d.count);
  d.median = counts_percentile(values, 50);
  d.p90 = counts_percentile(values, 90);
  d.p99 = counts_percentile(values, 99);
  d.max = values.runs().back().value;
  return d;
}

double jain_index(const std::vector<double>& x) {
  double sum = 0, sq = 0;
  for (double v : x) {
    sum += v;
    sq += v * v;
  }
  if (x.empty() || sq == 0) return 1.0;
  return sum * sum / (static_cast<double>(x.size()) * sq);
}

}  // namespace bricks::engine
