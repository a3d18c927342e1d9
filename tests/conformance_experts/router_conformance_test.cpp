// Router conformance: every router's output is valid (ids in range and distinct per token,
// weights descending and non-negative, summing to 1); topk also against a naive per-token
// loop, neuron_partition against its mask rule. To add a router: one line in kRouters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

const std::vector<std::string>& routers() {
  static const std::vector<std::string> kRouters = {"topk", "neuron_partition"};
  return kRouters;
}

struct Routed {
  std::string error;
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

Routed route(const HarnessBrick& brick, const std::vector<float>& logits, int32_t tokens,
             int32_t experts, int32_t top_k) {
  std::vector<float> hidden(static_cast<size_t>(tokens) * 4, 0.5f);
  const bricks_route_input in{
      sizeof(in), 0,    tokens, 4, hidden.data(), logits.empty() ? nullptr : logits.data(),
      experts,    top_k};
  Routed r;
  r.ids.assign(static_cast<size_t>(tokens) * top_k, -7);
  r.weights.assign(static_cast<size_t>(tokens) * top_k, -1.0f);
  bricks_route_output out{r.ids.data(), r.weights.data()};
  r.error = take_error(brick.vt<bricks_router_vtable>()->route(brick.instance(), &in, &out));
  return r;
}

std::vector<float> random_logits(int32_t tokens, int32_t experts, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 2.0f);
  std::vector<float> logits(static_cast<size_t>(tokens) * experts);
  for (auto& x : logits) x = n(rng);
  return logits;
}

class RouterConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(RouterConformance, OutputsAreValid) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, GetParam());
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
  auto brick = create_brick(BRICKS_KIND_ROUTER, GetParam());
  ASSERT_TRUE(brick);
  EXPECT_NE(route(*brick, random_logits(3, 4, 1), 3, 4, 5).error, "");
}

INSTANTIATE_TEST_SUITE_P(All, RouterConformance, ::testing::ValuesIn(routers()));

// Softmax, then k times the most probable expert not yet taken (lower id on ties).
void naive_topk(const float* logits, int32_t experts, int32_t k, bool renormalize,
                std::vector<int32_t>& ids, std::vector<double>& weights) {
  std::vector<double> p(static_cast<size_t>(experts));
  double total = 0.0;
  for (int32_t e = 0; e < experts; ++e) total += p[e] = std::exp(double{logits[e]});
  for (auto& x : p) x /= total;
  std::vector<bool> taken(static_cast<size_t>(experts), false);
  ids.clear();
  weights.clear();
  for (int32_t i = 0; i < k; ++i) {
    int32_t best = -1;
    for (int32_t e = 0; e < experts; ++e) {
      if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
    }
    taken[best] = true;
    ids.push_back(best);
    weights.push_back(p[best]);
  }
  if (renormalize) {
    double kept = 0.0;
    for (double w : weights) kept += w;
    for (double& w : weights) w /= kept;
  }
}

TEST(TopK, MatchesNaiveLoop) {
  for (bool renormalize : {true, false}) {
    auto brick = create_brick(BRICKS_KIND_ROUTER, "topk", {bool_param("renormalize", renormalize)});
    ASSERT_TRUE(brick);
    const int32_t tokens = 64, experts = 8, k = 2;
    const std::vector<float> logits = random_logits(tokens, experts, 99);
    const Routed r = route(*brick, logits, tokens, experts, k);
    ASSERT_EQ(r.error, "");
    std::vector<int32_t> ids;
    std::vector<double> weights;
    for (int32_t t = 0; t < tokens; ++t) {
      naive_topk(&logits[t * experts], experts, k, renormalize, ids, weights);
      for (int32_t i = 0; i < k; ++i) {
        EXPECT_EQ(r.ids[t * k + i], ids[i]) << "token " << t;
        EXPECT_NEAR(r.weights[t * k + i], weights[i], 1e-6) << "token " << t;
      }
    }
  }
}

// Equal logits: every expert has probability 1/8; ties go to the lower ids.
TEST(TopK, TiesGoToLowerIds) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "topk", {bool_param("renormalize", false)});
  ASSERT_TRUE(brick);
  const Routed r = route(*brick, std::vector<float>(8, 0.3f), 1, 8, 3);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 1, 2}));
  for (float w : r.weights) EXPECT_NEAR(w, 0.125f, 1e-7f);
}

TEST(TopK, ClearErrors) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "topk");
  ASSERT_TRUE(brick);
  EXPECT_NE(route(*brick, {}, 2, 8, 2).error.find("gate_logits"), std::string::npos);
  auto fixed = create_brick(BRICKS_KIND_ROUTER, "topk", {int_param("top_k", 3)});
  ASSERT_TRUE(fixed);
  EXPECT_EQ(route(*fixed, random_logits(2, 8, 3), 2, 8, 3).error, "");
  EXPECT_NE(route(*fixed, random_logits(2, 8, 3), 2, 8, 2).error.find("top_k=3"),
            std::string::npos);
  std::vector<float> bad = random_logits(2, 8, 4);
  bad[9] = NAN;
  EXPECT_NE(route(*brick, bad, 2, 8, 2).error.find("token 1"), std::string::npos);
}

// neuron_partition: clusters by descending score, the first n weighted 1/n, the rest 0.
TEST(NeuronPartition, ActiveShareMasksTheLowestScores) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "neuron_partition",
                            {float_param("active_share", 0.25)});
  ASSERT_TRUE(brick);
  // 8 clusters, share 0.25 -> 2 run. Scores of token 0: cluster 5 > 2 > 7 > ...
  const std::vector<float> scores = {0.1f, -1.0f, 3.0f, 0.0f, -2.0f, 4.0f, 0.5f, 1.0f,
                                     1.0f, 1.0f,  1.0f, 1.0f, 1.0f,  1.0f, 1.0f, 1.0f};
  const Routed r = route(*brick, scores, 2, 8, 8);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::vector<int32_t>(r.ids.begin(), r.ids.begin() + 8),
            (std::vector<int32_t>{5, 2, 7, 6, 0, 3, 1, 4}));
  EXPECT_EQ(std::vector<float>(r.weights.begin(), r.weights.begin() + 8),
            (std::vector<float>{0.5f, 0.5f, 0, 0, 0, 0, 0, 0}));
  // Equal scores: ties to the lower ids.
  EXPECT_EQ(std::vector<int32_t>(r.ids.begin() + 8, r.ids.begin() + 10),
            (std::vector<int32_t>{0, 1}));
}

TEST(NeuronPartition, TopKOverridesShareAndIsCappedByTheHost) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "neuron_partition",
                            {int_param("top_k", 3), float_param("active_share", 0.9)});
  ASSERT_TRUE(brick);
  const std::vector<float> scores = random_logits(4, 16, 7);
  Routed r = route(*brick, scores, 4, 16, 16);
  ASSERT_EQ(r.error, "");
  for (int32_t t = 0; t < 4; ++t) {
    int32_t on = 0;
    for (int32_t i = 0; i < 16; ++i) on += r.weights[t * 16 + i] > 0.0f ? 1 : 0;
    EXPECT_EQ(on, 3) << "token " << t;
    for (int32_t i = 1; i < 16; ++i) {
      EXPECT_GE(scores[t * 16 + r.ids[t * 16 + i - 1]], scores[t * 16 + r.ids[t * 16 + i]]);
    }
  }
  // The host asked for 2 per token: all 2 run, each 1/2.
  r = route(*brick, scores, 4, 16, 2);
  ASSERT_EQ(r.error, "");
  for (float w : r.weights) EXPECT_EQ(w, 0.5f);
}

TEST(NeuronPartition, AtLeastOneClusterRuns) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "neuron_partition",
                            {float_param("active_share", 0.0)});
  ASSERT_TRUE(brick);
  const Routed r = route(*brick, random_logits(1, 8, 3), 1, 8, 8);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.weights[0], 1.0f);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(r.weights[i], 0.0f);
}

TEST(NeuronPartition, ClearErrors) {
  auto brick = create_brick(BRICKS_KIND_ROUTER, "neuron_partition");
  ASSERT_TRUE(brick);
  EXPECT_NE(route(*brick, {}, 2, 8, 8).error.find("gate_logits"), std::string::npos);
  std::vector<float> bad = random_logits(2, 8, 4);
  bad[12] = NAN;
  EXPECT_NE(route(*brick, bad, 2, 8, 8).error.find("token 1"), std::string::npos);
  EXPECT_NE(route(*brick, random_logits(2, 8, 4), 2, 8, 0).error.find("top_k"),
            std::string::npos);
}

}  // namespace
}  // namespace bricks::testing
