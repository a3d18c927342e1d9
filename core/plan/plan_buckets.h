// Request-size buckets: a grid of (input length, output length) ranges, and how a workload's
// requests fall into it. Mélange slices a workload this way so that each slice has one size
// and a GPU type has one capacity for it.
//
// The default edges follow Mélange's log-spaced grid:
//   input  1-25, 25-100, 100-250, 250-500, 500-1k, 1k-2k, 2k-4k, 4k-8k, 8k-16k, 16k-32k
//   output 1-25, 25-100, 100-250, 250-500, 500-1k, 1k-2k, 2k-4k
// A range holds lengths in [lo, hi); the last range of an axis also holds everything above.
//
// Functions here are thread-compatible: no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bricks::plan {

// Edges of one axis, rising, starting at 1: range i is [edges[i], edges[i + 1]).
struct BucketGrid {
  std::vector<int32_t> input_edges{1, 25, 100, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000};
  std::vector<int32_t> output_edges{1, 25, 100, 250, 500, 1000, 2000, 4000};

  size_t input_ranges() const { return input_edges.size() - 1; }
  size_t output_ranges() const { return output_edges.size() - 1; }
  // The input range and output range of a request (lengths below 1 count as 1).
  std::pair<size_t, size_t> locate(int32_t input_len, int32_t output_len) const;
  // "1,25,100,...;1,25,..." : the edges, for cache keys and reports.
  std::string describe() const;
  // Throws PlanError unless each axis has >= 2 edges, starts at 1 and rises strictly.
  void check() const;
};

// Parses "1,25,100,250" into edges; throws PlanError naming `flag` on a bad list.
std::vector<int32_t> parse_edges(const std::string& text, const std::string& flag);

// One bucket of a workload.
struct Bucket {
  size_t input_range = 0, output_range = 0;  // in the grid
  int32_t input_lo = 0, input_hi = 0;        // [lo, hi) tokens
  int32_t output_lo = 0, output_hi = 0;
  // The lengths a profile runs: the geometric middle of each range (the lower edge times
  // sqrt(hi / lo)), so they depend on the grid only and a profile can be cached.
  int32_t input_len = 0, output_len = 0;
  size_t requests = 0;  // of the workload's sample
  double share = 0;     // requests / all requests
  double rate = 0;      // share * the workload's rate, requests per second
  // "in 100-250 / out 25-100".
  std::string label() const;
};

// The geometric middle of [lo, hi), rounded, within [lo, hi - 1].
int32_t representative_length(int32_t lo, int32_t hi);

// The non-empty buckets of `lengths` ((input, output) per request), by input range, then
// output range, with shares of the requests and rates at `rate` requests per second.
// Throws PlanError when `lengths` is empty.
std::vector<Bucket> bucket_requests(const std::vector<std::pair<int32_t, int32_t>>& lengths,
                                    const BucketGrid& grid, double rate);

}  // namespace bricks::plan
