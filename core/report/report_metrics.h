// The building blocks of reports: what one request's run looked like, percentiles and
// distributions of latencies, Jain's fairness index. Pure functions over plain data, so
// the report's numbers can be checked by hand.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/value_counts.h"

namespace bricks::engine {

// One request as the report sees it. Times in seconds on the engine clock.
struct RequestRecord {
  uint64_t id = 0;
  int32_t tenant = 0, priority = 0;
  double arrival_s = 0;
  double end_s = 0;  // finished or failed
  bool failed = false;
  int32_t prompt_tokens = 0, output_tokens = 0;
  double ttft_s = -1;         // first token - arrival; -1 when no token came
  double tpot_s = -1;         // (last - first token) / (tokens - 1); -1 with < 2 tokens
  double e2e_s = -1;          // end - arrival for finished requests
  std::vector<double> itl_s;  // gaps between consecutive tokens
  // workload.context_overflow at submission: prompt tokens dropped, output tokens clamped.
  int32_t prompt_tokens_truncated = 0, max_tokens_clamped = 0;
  int32_t preemptions = 0;
  uint64_t output_digest = 0;  // of the generated tokens (RequestSummary::output_digest)
  std::string finish;   // stop, length, failed
  std::string failure;  // why it failed, when it did
  bool has_ttft() const { return ttft_s >= 0; }
  bool has_tpot() const { return tpot_s >= 0; }
};

// The p-th percentile (0..100) of ascending `sorted`, linearly interpolated between the
// closest ranks (numpy's default). 0 for an empty input.
double percentile(const std::vector<double>& sorted, double p);
// The same over `count` ascending samples that `at(rank)` reads.
template <class At>
double percentile_of(size_t count, const At& at, double p);
// The same over the samples of `values` followed by `infinities` samples of +infinity.
double counts_percentile(const ValueCounts& values, double p, int64_t infinities = 0);

struct Distribution {
  double mean = 0, median = 0, p90 = 0, p99 = 0, max = 0;
  size_t count = 0;
  double p50() const { return median; }
  static Distribution of(std::vector<double> values);
  // The same numbers, to the bit, as of() over every sample of `values`.
  static Distribution of_counts(const ValueCounts& values);
};

// Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when every x is equal, 1/n when one
// takes everything. 1 for an empty input or all zeros (nobody is favoured).
double jain_index(const std::vector<double>& x);

template <class At>
double percentile_of(size_t count, const At& at, double p) {
  if (count == 0) return 0.0;
  const double pos = (p < 0 ? 0.0 : p > 100 ? 100.0 : p) / 100.0 * static_cast<double>(count - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = lo + 1 < count ? lo + 1 : count - 1;
  const double high = at(hi);
  if (std::isinf(high)) return pos == static_cast<double>(lo) ? at(lo) : high;
  const double low = at(lo);
  return low + (high - low) * (pos - static_cast<double>(lo));
}

}  // namespace bricks::engine
