// ValueCounts against the sorted list of every sample it stands for: the same distribution
// and percentiles to the bit, with repeats, samples taken back, and infinite tails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "engine/value_counts.h"
#include "report/report_metrics.h"

namespace bricks::engine {
namespace {

// Gaps as a simulated run makes them: a few distinct values, each repeated in runs.
std::vector<double> gap_samples(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> steps;
  for (int i = 0; i < 300; ++i) steps.push_back(0.01 + 1e-5 * static_cast<double>(rng() % 997));
  std::vector<double> out;
  while (out.size() < n) {
    const double v = steps[rng() % steps.size()];
    for (uint64_t k = rng() % 40; k > 0 && out.size() < n; --k) out.push_back(v);
  }
  return out;
}

TEST(ValueCounts, DistributionIsThatOfEverySample) {
  const std::vector<double> samples = gap_samples(200000, 7);  // past the sort threshold
  ValueCounts counts;
  for (double v : samples) counts.add(v);
  ASSERT_EQ(counts.size(), static_cast<int64_t>(samples.size()));
  const Distribution a = Distribution::of(samples);
  const Distribution b = Distribution::of_counts(counts);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.median, b.median);
  EXPECT_EQ(a.p90, b.p90);
  EXPECT_EQ(a.p99, b.p99);
  EXPECT_EQ(a.max, b.max);
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  for (double p : {0.0, 12.5, 50.0, 77.7, 99.9, 100.0}) {
    EXPECT_EQ(percentile(sorted, p), counts_percentile(counts, p)) << p;
  }
}

TEST(ValueCounts, TakenBackSamplesAreGone) {
  const std::vector<double> kept = gap_samples(5000, 1);
  const std::vector<double> dropped = gap_samples(3000, 2);
  ValueCounts counts;
  for (size_t i = 0; i < std::max(kept.size(), dropped.size()); ++i) {
    if (i < kept.size()) counts.add(kept[i]);
    if (i < dropped.size()) counts.add(dropped[i]);
  }
  for (double v : dropped) counts.add(v, -1);
  EXPECT_EQ(counts.size(), static_cast<int64_t>(kept.size()));
  const Distribution a = Distribution::of(kept);
  const Distribution b = Distribution::of_counts(counts);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.p99, b.p99);
  for (const ValueCounts::Run& r : counts.runs()) EXPECT_GT(r.count, 0);
}

TEST(ValueCounts, InfinitiesFollowTheSamples) {
  const double inf = std::numeric_limits<double>::infinity();
  ValueCounts counts;
  for (double v : {3.0, 1.0, 2.0, 2.0}) counts.add(v);
  EXPECT_EQ(counts_percentile(counts, 50, 2), percentile({1, 2, 2, 3, inf, inf}, 50));
  EXPECT_TRUE(std::isinf(counts_percentile(counts, 99, 2)));
  EXPECT_EQ(counts_percentile(counts, 99, 0), percentile({1, 2, 2, 3}, 99));
  EXPECT_EQ(counts_percentile(ValueCounts{}, 50, 0), 0.0);
  EXPECT_TRUE(std::isinf(counts_percentile(ValueCounts{}, 50, 1)));
}

}  // namespace
}  // namespace bricks::engine
