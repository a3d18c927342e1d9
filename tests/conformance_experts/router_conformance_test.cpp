// Router conformance: every router in router_cases() gives valid output (ids in range and
// distinct per token, weights descending and non-negative, summing to 1) and refuses a
// top_k above the number of experts.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "experts_conformance.h"
#include "route_call.h"

namespace bricks::testing {
namespace {

class RouterConformance : public ::testing::TestWithParam<BrickCase> {
 protected:
  std::unique_ptr<HarnessBrick> make() const {
    return create_brick(BRICKS_KIND_ROUTER, GetParam().name, GetParam().params);
  }
};

TEST_P(RouterConformance, OutputsAreValid) {
  auto brick = make();
  ASSERT_TRUE(brick);
  for (auto [experts, k] : {std::pair{8, 2}, std::pair{8, 1}, std::pair{16, 4}, std::pair{5, 5}}) {
    const int32_t tokens = 37;
    const Routed r =
        route(*brick, random_logits(tokens, experts, experts * 10 + k), tokens, experts, k);
    ASSERT_EQ(r.error, "");
    for (int32_t t = 0; t < tokens; ++t) {
      std::set<int32_t> seen;
      double sum = 0.0;
      for (int32_t i = 0; i < k; ++i) {
        const int32_t id = r.ids[t * k + i];
        const float w = r.weights[t * k + i];
        EXPECT_GE(id, 0);
        EXPECT_LT(id, experts);
        EXPECT_TRUE(seen.insert(id).second) << "token " << t << " repeats expert " << id;
        EXPECT_GE(w, 0.0f);
        if (i > 0) {
          EXPECT_GE(r.weights[t * k + i - 1], w) << "token " << t << " not descending";
        }
        sum += w;
      }
      EXPECT_NEAR(sum, 1.0, 1e-5) << "token " << t;
    }
  }
}

TEST_P(RouterConformance, RejectsTopKAboveExperts) {
  auto brick = make();
  ASSERT_TRUE(brick);
  EXPECT_NE(route(*brick, random_logits(3, 4, 1), 3, 4, 5).error, "");
}

INSTANTIATE_TEST_SUITE_P(All, RouterConformance, ::testing::ValuesIn(router_cases()),
                         brick_case_label);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RouterConformance);

}  // namespace
}  // namespace bricks::testing
