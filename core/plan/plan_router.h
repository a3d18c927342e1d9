// Routing of a planned heterogeneous cluster: each request goes to a GPU-type pool chosen
// by its bucket, so that each bucket's requests split over the pools as the plan's shares
// x[b][g] say. Within a bucket the split is a smooth weighted round robin (each pool's
// credit grows by its share at every request; the pool with the most credit takes the
// request and pays 1; ties to the lower pool), deterministic and within one request of the
// shares at every prefix.
//
// Thread safety: one thread routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "plan/plan_buckets.h"

namespace bricks::plan {

class BucketRouter {
 public:
  // `buckets[i]` is served by the pools with shares[i][pool] > 0 (each row sums to 1).
  // Requests of a bucket the plan does not hold go to `fallback_pool`. Throws PlanError
  // when the sizes differ or a row has no positive share.
  BucketRouter(BucketGrid grid, const std::vector<Bucket>& buckets,
               std::vector<std::vector<double>> shares, int32_t fallback_pool);
  // The pool of the next request of (input_len, output_len).
  int32_t route(int32_t input_len, int32_t output_len);

 private:
  BucketGrid grid_;
  std::map<std::pair<size_t, size_t>, size_t> row_of_;  // grid cell -> row of shares_
  std::vector<std::vector<double>> shares_;
  std::vector<std::vector<double>> credit_;
  int32_t fallback_;
};

}  // namespace bricks::plan
