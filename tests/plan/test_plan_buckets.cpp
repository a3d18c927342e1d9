// Request-size buckets: where lengths fall, the shares and rates of a workload's buckets,
// the lengths a bucket is profiled at, and the errors of bad edges.
#include <gtest/gtest.h>

#include "plan/plan_buckets.h"
#include "plan/plan_error.h"

namespace bricks::plan {
namespace {

TEST(PlanBuckets, LengthsFallIntoHalfOpenRangesAndTheLastRangeTakesTheRest) {
  BucketGrid g;
  g.input_edges = {1, 25, 100};
  g.output_edges = {1, 50};
  EXPECT_EQ(g.locate(1, 1), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(g.locate(24, 49), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(g.locate(25, 50), std::make_pair(size_t{1}, size_t{0}));
  EXPECT_EQ(g.locate(5000, 7), std::make_pair(size_t{1}, size_t{0}));
  EXPECT_EQ(g.locate(0, 0), std::make_pair(size_t{0}, size_t{0}));
}

TEST(PlanBuckets, SharesAndRatesFollowTheRequests) {
  BucketGrid g;  // the default, Mélange-style grid
  // 2 short chats, 1 medium, 1 long document: shares 1/2, 1/4, 1/4.
  const std::vector<std::pair<int32_t, int32_t>> lengths = {
      {10, 10}, {20, 5}, {300, 120}, {3000, 200}};
  const std::vector<Bucket> b = bucket_requests(lengths, g, 8.0);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].label(), "in 1-25 / out 1-25");
  EXPECT_EQ(b[0].requests, 2u);
  EXPECT_DOUBLE_EQ(b[0].share, 0.5);
  EXPECT_DOUBLE_EQ(b[0].rate, 4.0);
  EXPECT_EQ(b[1].label(), "in 250-500 / out 100-250");
  EXPECT_DOUBLE_EQ(b[1].rate, 2.0);
  EXPECT_EQ(b[2].label(), "in 2000-4000 / out 100-250");
  double sum = 0;
  for (const Bucket& x : b) sum += x.share;
  EXPECT_DOUBLE_EQ(sum, 1.0);
  EXPECT_THROW(bucket_requests({}, g, 1.0), PlanError);
}

TEST(PlanBuckets, ABucketIsProfiledAtTheGeometricMiddleOfItsRanges) {
  EXPECT_EQ(representative_length(1, 25), 5);
  EXPECT_EQ(representative_length(100, 400), 200);
  EXPECT_EQ(representative_length(7, 8), 7);  // inside [lo, hi)
  const std::vector<Bucket> b = bucket_requests({{150, 30}}, BucketGrid{}, 1.0);
  EXPECT_EQ(b[0].input_len, representative_length(100, 250));
  EXPECT_EQ(b[0].output_len, 50);
}

TEST(PlanBuckets, BadEdgesAreRefusedWithTheFix) {
  BucketGrid g;
  g.input_edges = {5, 25};
  EXPECT_THROW(g.check(), PlanError);
  g.input_edges = {1, 25, 25};
  EXPECT_THROW(g.check(), PlanError);
  g.input_edges = {1};
  EXPECT_THROW(g.check(), PlanError);
  EXPECT_EQ(parse_edges("1,25,100", "--input-edges"), (std::vector<int32_t>{1, 25, 100}));
  try {
    parse_edges("1,x", "--input-edges");
    FAIL() << "expected PlanError";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("--input-edges"), std::string::npos);
  }
}

}  // namespace
}  // namespace bricks::plan
