#include "plan/plan_buckets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "plan/plan_error.h"

namespace bricks::plan {

namespace {

// The range of `len` on an axis; the last range also holds everything above it.
size_t range_of(const std::vector<int32_t>& edges, int32_t len) {
  const auto it = std::upper_bound(edges.begin(), edges.end(), std::max(len, 1));
  const size_t i = static_cast<size_t>(it - edges.begin());
  return std::min(i == 0 ? 0 : i - 1, edges.size() - 2);
}

std::string join(const std::vector<int32_t>& v) {
  std::string out;
  for (int32_t e : v) out += (out.empty() ? "" : ",") + std::to_string(e);
  return out;
}

void check_axis(const std::vector<int32_t>& edges, const char* axis) {
  bool rising = true;
  for (size_t i = 1; i < edges.size(); ++i) rising = rising && edges[i] > edges[i - 1];
  if (edges.size() < 2 || edges.front() != 1 || !rising) {
    throw PlanError(std::string("the ") + axis + " bucket edges '" + join(edges) +
                    "' must start at 1 and rise, with at least two edges (e.g. 1,25,100,250)");
  }
}

}  // namespace

std::pair<size_t, size_t> BucketGrid::locate(int32_t input_len, int32_t output_len) const {
  return {range_of(input_edges, input_len), range_of(output_edges, output_len)};
}

std::string BucketGrid::describe() const { return join(input_edges) + ";" + join(output_edges); }

void BucketGrid::check() const {
  check_axis(input_edges, "input");
  check_axis(output_edges, "output");
}

std::vector<int32_t> parse_edges(const std::string& text, const std::string& flag) {
  std::vector<int32_t> edges;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || end == nullptr || *end != '\0' || v < 1 || v > (1L << 30)) {
      throw PlanError(flag + ": '" + item +
                      "' is not a length in tokens; give rising edges "
                      "such as 1,25,100,250,500");
    }
    edges.push_back(static_cast<int32_t>(v));
  }
  return edges;
}

std::string Bucket::label() const {
  return "in " + std::to_string(input_lo) + "-" + std::to_string(input_hi) + " / out " +
         std::to_string(output_lo) + "-" + std::to_string(output_hi);
}

int32_t representative_length(int32_t lo, int32_t hi) {
  const double mid = std::sqrt(static_cast<double>(lo) * static_cast<double>(hi));
  return std::clamp(static_cast<int32_t>(std::lround(mid)), lo, std::max(lo, hi - 1));
}

std::vector<Bucket> bucket_requests(const std::vector<std::pair<int32_t, int32_t>>& lengths,
                                    const BucketGrid& grid, double rate) {
  if (lengths.empty()) throw PlanError("the workload has no requests to bucket");
  std::map<std::pair<size_t, size_t>, size_t> counts;
  for (const auto& [in, out] : lengths) ++counts[grid.locate(in, out)];
  std::vector<Bucket> out;
  for (const auto& [where, n] : counts) {
    Bucket b;
    b.input_range = where.first;
    b.output_range = where.second;
    b.input_lo = grid.input_edges[where.first];
    b.input_hi = grid.input_edges[where.first + 1];
    b.output_lo = grid.output_edges[where.second];
    b.output_hi = grid.output_edges[where.second + 1];
    b.input_len = representative_length(b.input_lo, b.input_hi);
    b.output_len = representative_length(b.output_lo, b.output_hi);
    b.requests = n;
    b.share = static_cast<double>(n) / static_cast<double>(lengths.size());
    b.rate = b.share * rate;
    out.push_back(b);
  }
  return out;
}

}  // namespace bricks::plan
