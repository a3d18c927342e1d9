// The rate search on synthetic monotone functions: it brackets by doubling or halving,
// bisects to the tolerance, and says when it could not bracket.
#include <gtest/gtest.h>

#include <cmath>

#include "report/report_capacity.h"

namespace bricks::engine {
namespace {

TEST(RateSearch, FindsTheThresholdFromBelow) {
  int calls = 0;
  RateSearchOptions o;
  o.start_rate = 1;
  o.rel_tol = 0.01;
  o.max_evals = 40;
  const RateSearchResult r = find_max_rate(
      [&](double x) {
        ++calls;
        return x <= 11.3;
      },
      o);
  EXPECT_TRUE(r.bounded);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.best, 11.3);
  EXPECT_GE(r.best, 11.3 / 1.01);
  EXPECT_GT(r.lowest_failed, 11.3);
  EXPECT_LE(r.lowest_failed - r.best, 0.01 * r.best);
  EXPECT_EQ(static_cast<int>(r.tried.size()), calls);
  // Doubling first: 1, 2, 4, 8, 16.
  ASSERT_GE(r.tried.size(), 5u);
  EXPECT_EQ(r.tried[4].first, 16.0);
  EXPECT_FALSE(r.tried[4].second);
}

TEST(RateSearch, HalvesWhenTheStartFails) {
  RateSearchOptions o;
  o.start_rate = 64;
  o.rel_tol = 0.05;
  o.max_evals = 40;
  const RateSearchResult r = find_max_rate([](double x) { return x < 3; }, o);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.best, 3);
  EXPECT_GE(r.best, 3 / 1.05);
  EXPECT_EQ(r.tried[0].first, 64);
  EXPECT_EQ(r.tried[1].first, 32);
}

TEST(RateSearch, NothingPassesOrEverythingPasses) {
  RateSearchOptions o;
  o.start_rate = 1;
  o.min_rate = 0.1;
  o.max_rate = 100;
  RateSearchResult none = find_max_rate([](double) { return false; }, o);
  EXPECT_EQ(none.best, 0);
  EXPECT_FALSE(none.bounded);
  RateSearchResult all = find_max_rate([](double) { return true; }, o);
  EXPECT_EQ(all.best, 64);
  EXPECT_FALSE(all.bounded);
  EXPECT_TRUE(std::isinf(all.lowest_failed));
}

TEST(RateSearch, StopsAtMaxEvals) {
  RateSearchOptions o;
  o.start_rate = 1;
  o.rel_tol = 1e-9;
  o.max_evals = 7;
  const RateSearchResult r = find_max_rate([](double x) { return x <= 5; }, o);
  EXPECT_EQ(r.tried.size(), 7u);
  EXPECT_TRUE(r.bounded);
  EXPECT_FALSE(r.converged);
  EXPECT_LE(r.best, 5);
  EXPECT_GE(r.best, 4);
}

}  // namespace
}  // namespace bricks::engine
