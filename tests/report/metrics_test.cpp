// Percentiles, distributions and Jain's index, checked against numbers worked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "report/report.h"

namespace bricks::engine {
namespace {

TEST(Percentile, InterpolatesBetweenClosestRanks) {
  const std::vector<double> v = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 4.6);   // pos 3.6: 4 + 0.6 * (5 - 4)
  EXPECT_DOUBLE_EQ(percentile(v, 99), 4.96);  // pos 3.96
  EXPECT_DOUBLE_EQ(percentile(v, 100), 5);
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0);
  EXPECT_DOUBLE_EQ(percentile({7}, 99), 7);
}

TEST(Percentile, InfiniteTailStaysInfinite) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isinf(percentile({1, 2, inf}, 99)));
  EXPECT_DOUBLE_EQ(percentile({1, 2, inf}, 50), 2);
}

TEST(Distribution, MeanMedianTail) {
  const Distribution d = Distribution::of({10, 0, 30, 20});
  EXPECT_EQ(d.count, 4u);
  EXPECT_DOUBLE_EQ(d.mean, 15);
  EXPECT_DOUBLE_EQ(d.median, 15);
  EXPECT_DOUBLE_EQ(d.p50(), 15);
  EXPECT_DOUBLE_EQ(d.p90, 27);  // pos 2.7 of {0, 10, 20, 30}
  EXPECT_DOUBLE_EQ(d.max, 30);
}

TEST(Jain, EqualIsOneMonopolyIsOneOverN) {
  EXPECT_DOUBLE_EQ(jain_index({3, 3, 3}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({5, 0, 0, 0}), 0.25);
  EXPECT_DOUBLE_EQ(jain_index({1, 3}), 16.0 / 20.0);  // (1+3)^2 / (2 * (1+9))
  EXPECT_DOUBLE_EQ(jain_index({}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({0, 0}), 1.0);
}

TEST(ReportFromRecords, LatenciesAndThroughput) {
  RequestRecord a;  // arrives at 0, tokens at 1, 2, 3; ends at 3
  a.arrival_s = 0;
  a.end_s = 3;
  a.prompt_tokens = 10;
  a.output_tokens = 3;
  a.ttft_s = 1;
  a.tpot_s = 1;
  a.e2e_s = 3;
  a.itl_s = {1, 1};
  RequestRecord b;  // arrives at 1, one token at 1.5, ends at 1.5
  b.arrival_s = 1;
  b.end_s = 1.5;
  b.prompt_tokens = 4;
  b.output_tokens = 1;
  b.ttft_s = 0.5;
  b.e2e_s = 0.5;
  RequestRecord c;  // failed at 4
  c.arrival_s = 2;
  c.end_s = 4;
  c.failed = true;
  const Report r = Report::from_records({a, b, c});
  EXPECT_EQ(r.submitted, 3u);
  EXPECT_EQ(r.finished, 2u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_DOUBLE_EQ(r.duration_s, 4);
  EXPECT_DOUBLE_EQ(r.request_throughput, 0.5);
  EXPECT_DOUBLE_EQ(r.output_throughput, 1.0);
  EXPECT_DOUBLE_EQ(r.total_throughput, 18.0 / 4);
  EXPECT_DOUBLE_EQ(r.ttft.mean, 0.75);
  EXPECT_EQ(r.tpot.count, 1u);
  EXPECT_EQ(r.itl.count, 2u);
  const nlohmann::json j = r.to_json();
  EXPECT_DOUBLE_EQ(j["ttft_s"]["p50"].get<double>(), 0.75);
  EXPECT_FALSE(j.contains("slo"));
  EXPECT_NE(r.to_table().find("p50"), std::string::npos);
}

}  // namespace
}  // namespace bricks::engine
