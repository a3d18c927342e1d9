// The router of a planned cluster: each bucket's requests split over the pools as the
// plan's shares say, deterministically, and requests of other sizes go to the fallback.
#include <gtest/gtest.h>

#include <cmath>

#include "plan/plan_error.h"
#include "plan/plan_router.h"

namespace bricks::plan {
namespace {

BucketGrid grid() {
  BucketGrid g;
  g.input_edges = {1, 100, 1000};
  g.output_edges = {1, 100};
  return g;
}

TEST(PlanRouter, EachBucketSplitsAsItsSharesSayAtEveryPrefix) {
  const BucketGrid g = grid();
  const std::vector<Bucket> buckets = bucket_requests({{10, 10}, {500, 10}}, g, 1.0);
  // Short requests: a quarter to pool 0, three quarters to pool 1; long ones: all pool 2.
  BucketRouter r(g, buckets, {{0.25, 0.75, 0.0}, {0.0, 0.0, 1.0}}, 0);
  int counts[3] = {0, 0, 0};
  for (int i = 1; i <= 1000; ++i) {
    const int32_t pool = r.route(10, 10);
    ASSERT_TRUE(pool == 0 || pool == 1);
    ++counts[pool];
    EXPECT_LE(std::abs(counts[0] - 0.25 * i), 1.0) << "after " << i;
    EXPECT_EQ(r.route(500, 20), 2);
  }
  EXPECT_EQ(counts[0], 250);
  EXPECT_EQ(counts[1], 750);
}

TEST(PlanRouter, IsDeterministicAndSendsUnplannedSizesToTheFallback) {
  const BucketGrid g = grid();
  const std::vector<Bucket> buckets = bucket_requests({{10, 10}}, g, 1.0);
  BucketRouter a(g, buckets, {{0.5, 0.5}}, 1);
  BucketRouter b(g, buckets, {{0.5, 0.5}}, 1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.route(10, 10), b.route(10, 10));
  EXPECT_EQ(a.route(500, 10), 1);  // a bucket the plan does not hold
}

TEST(PlanRouter, ABucketWithoutAPoolIsRefused) {
  const BucketGrid g = grid();
  const std::vector<Bucket> buckets = bucket_requests({{10, 10}}, g, 1.0);
  EXPECT_THROW(BucketRouter(g, buckets, {{0.0, 0.0}}, 0), PlanError);
  EXPECT_THROW(BucketRouter(g, buckets, {}, 0), PlanError);
}

}  // namespace
}  // namespace bricks::plan
