// The shipped routers' own rules, through the brick boundary: topk against a naive
// per-token loop, neuron_partition against its mask rule, and their error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "route_call.h"

namespace bricks::testing {
namespace {

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
  auto brick =
      create_brick(BRICKS_KIND_ROUTER, "neuron_partition", {float_param("active_share", 0.25)});
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
  auto brick =
      create_brick(BRICKS_KIND_ROUTER, "neuron_partition", {float_param("active_share", 0.0)});
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
  EXPECT_NE(route(*brick, random_logits(2, 8, 4), 2, 8, 0).error.find("top_k"), std::string::npos);
}

}  // namespace
}  // namespace bricks::testing
