// The GPU-mix ILP (GLPK) on small cases whose answer is worked out by hand.
#include <gtest/gtest.h>

#include "plan/plan_error.h"
#include "plan/plan_ilp.h"

namespace bricks::plan {
namespace {

// Two types, two buckets. A ($1/h) is good at small requests and poor at large ones; B
// ($2/h) is good at both. Alone: A needs 10/10 + 5/1 = 6 GPUs ($6), B needs 10/15 + 5/10
// = 1.17, so 2 GPUs ($4). Mixed: one A for the small bucket, one B for the large one
// ($3), and nothing cheaper fits (no B: A's 6 GPUs; one B: A must take the rest).
PlanProblem two_by_two() {
  PlanProblem p;
  p.gpu_names = {"A", "B"};
  p.prices = {1.0, 2.0};
  p.bucket_names = {"small", "large"};
  p.rates = {10.0, 5.0};
  p.cap = {{10.0, 15.0}, {1.0, 10.0}};
  return p;
}

void expect_consistent(const PlanProblem& p, const PlanSolution& s) {
  ASSERT_EQ(s.shares.size(), p.rates.size());
  for (size_t b = 0; b < p.rates.size(); ++b) {
    double sum = 0;
    for (size_t g = 0; g < p.prices.size(); ++g) {
      EXPECT_GE(s.shares[b][g], 0.0);
      if (p.cap[b][g] == 0) {
        EXPECT_EQ(s.shares[b][g], 0.0);
      }
      sum += s.shares[b][g];
    }
    EXPECT_NEAR(sum, 1.0, 1e-9) << "bucket " << b;
  }
  for (size_t g = 0; g < p.prices.size(); ++g) {
    EXPECT_LE(s.load[g], s.counts[g] + 1e-6) << "type " << g;
  }
}

TEST(PlanIlp, MixesTwoTypesWhenThatIsCheapest) {
  const PlanProblem p = two_by_two();
  const PlanSolution s = solve_plan(p);
  EXPECT_EQ(s.counts, (std::vector<int32_t>{1, 1}));
  EXPECT_DOUBLE_EQ(s.cost_per_hour, 3.0);
  expect_consistent(p, s);
  // The large bucket goes mostly to B: one A GPU has little room left beside the small one.
  EXPECT_GT(s.shares[1][1], 0.8);

  int32_t n = 0;
  EXPECT_DOUBLE_EQ(single_type_cost(p, 0, &n), 6.0);
  EXPECT_EQ(n, 6);
  EXPECT_DOUBLE_EQ(single_type_cost(p, 1, &n), 4.0);
  EXPECT_EQ(n, 2);
}

TEST(PlanIlp, OneTypeCheapestForEverythingTakesItAll) {
  PlanProblem p = two_by_two();
  p.cap = {{30.0, 15.0}, {20.0, 10.0}};  // A is faster and cheaper everywhere
  const PlanSolution s = solve_plan(p);
  EXPECT_EQ(s.counts, (std::vector<int32_t>{1, 0}));
  EXPECT_DOUBLE_EQ(s.cost_per_hour, single_type_cost(p, 0));
  expect_consistent(p, s);
  EXPECT_DOUBLE_EQ(s.shares[0][0], 1.0);
  EXPECT_DOUBLE_EQ(s.shares[1][0], 1.0);
}

TEST(PlanIlp, SlicesOfSeveralBucketsShareOneGpu) {
  PlanProblem p;
  p.gpu_names = {"A"};
  p.prices = {1.0};
  p.bucket_names = {"x", "y", "z"};
  p.rates = {3.0, 3.0, 3.0};
  p.cap = {{10.0}, {10.0}, {10.0}};  // 0.9 of a GPU in all: one GPU, not three
  const PlanSolution s = solve_plan(p);
  EXPECT_EQ(s.counts, (std::vector<int32_t>{1}));
  EXPECT_NEAR(s.load[0], 0.9, 1e-9);
}

TEST(PlanIlp, ABucketNoTypeCanServeIsAnErrorNamingIt) {
  PlanProblem p = two_by_two();
  p.cap[1] = {0.0, 0.0};
  try {
    solve_plan(p);
    FAIL() << "expected PlanError";
  } catch (const PlanError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("large"), std::string::npos) << what;
    EXPECT_NE(what.find("relax the SLO"), std::string::npos) << what;
  }
  EXPECT_LT(single_type_cost(p, 0), 0);
  EXPECT_LT(single_type_cost(p, 1), 0);
}

TEST(PlanIlp, ATypeThatCannotServeABucketGetsNoShareOfIt) {
  PlanProblem p = two_by_two();
  p.cap[1][0] = 0;  // A cannot serve large requests at all
  const PlanSolution s = solve_plan(p);
  EXPECT_EQ(s.shares[1][0], 0.0);
  EXPECT_DOUBLE_EQ(s.cost_per_hour, 3.0);
  expect_consistent(p, s);
}

TEST(PlanIlp, MalformedProblemsAreRefused) {
  PlanProblem p = two_by_two();
  p.cap[0].pop_back();
  EXPECT_THROW(solve_plan(p), PlanError);
  p = two_by_two();
  p.prices[1] = 0;
  EXPECT_THROW(solve_plan(p), PlanError);
}

}  // namespace
}  // namespace bricks::plan
