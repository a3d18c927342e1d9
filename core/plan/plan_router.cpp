#include "plan/plan_router.h"

#include "plan/plan_error.h"

namespace bricks::plan {

BucketRouter::BucketRouter(BucketGrid grid, const std::vector<Bucket>& buckets,
                           std::vector<std::vector<double>> shares, int32_t fallback_pool)
    : grid_(std::move(grid)), shares_(std::move(shares)), fallback_(fallback_pool) {
  if (shares_.size() != buckets.size()) {
    throw PlanError("the router needs one row of shares per bucket");
  }
  for (size_t i = 0; i < buckets.size(); ++i) {
    double sum = 0;
    for (double x : shares_[i]) sum += x > 0 ? x : 0;
    if (!(sum > 0)) throw PlanError("bucket " + buckets[i].label() + " has no pool to go to");
    row_of_[{buckets[i].input_range, buckets[i].output_range}] = i;
    credit_.emplace_back(shares_[i].size(), 0.0);
  }
}

int32_t BucketRouter::route(int32_t input_len, int32_t output_len) {
  const auto it = row_of_.find(grid_.locate(input_len, output_len));
  if (it == row_of_.end()) return fallback_;
  const std::vector<double>& x = shares_[it->second];
  std::vector<double>& credit = credit_[it->second];
  size_t best = 0;
  bool found = false;
  for (size_t g = 0; g < x.size(); ++g) {
    if (!(x[g] > 0)) continue;
    credit[g] += x[g];
    if (!found || credit[g] > credit[best]) best = g;
    found = true;
  }
  credit[best] -= 1.0;
  return static_cast<int32_t>(best);
}

}  // namespace bricks::plan
