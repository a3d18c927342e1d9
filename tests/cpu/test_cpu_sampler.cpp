// Sampler: greedy and its equivalents, determinism, and the effect of each filter.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/ops.h"
#include "cpu/sampler.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

std::vector<float> logits_for(uint32_t seed) { return testing::random_floats(500, seed, -5, 5); }

// Draws `n` tokens with fresh copies of `logits`.
std::vector<int32_t> draw(const std::vector<float>& logits, const SamplingParams& p, int n,
                          std::span<const int32_t> history = {}) {
  Rng rng(p.seed);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    out.push_back(sample(l, p, history, rng));
  }
  return out;
}

TEST(CpuSampler, GreedyIsArgmax) {
  const auto l = logits_for(1);
  const int64_t want = argmax(l.data(), static_cast<int64_t>(l.size()));
  for (int32_t t : draw(l, SamplingParams{}, 5)) EXPECT_EQ(t, want);
}

TEST(CpuSampler, TopKOneIsGreedyAtAnyTemperature) {
  const auto l = logits_for(2);
  const int64_t want = argmax(l.data(), static_cast<int64_t>(l.size()));
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.seed = 99;
  for (int32_t t : draw(l, p, 20)) EXPECT_EQ(t, want);
}

TEST(CpuSampler, SameSeedSameTokensOtherSeedOtherTokens) {
  const auto l = logits_for(3);
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  const auto a = draw(l, p, 50), b = draw(l, p, 50);
  EXPECT_EQ(a, b);
  p.seed = 4321;
  EXPECT_NE(a, draw(l, p, 50));
  EXPECT_GT(std::set<int32_t>(a.begin(), a.end()).size(), 5u);  // it does sample
}

TEST(CpuSampler, TopPKeepsOnlyTheNucleus) {
  std::vector<float> l(10, 0.0f);
  l[4] = 10.0f;  // p ~ 0.9996
  l[7] = 2.0f;
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.9f;
  for (int32_t t : draw(l, p, 200)) EXPECT_EQ(t, 4);
  // Two tokens of nearly equal mass: 0.6 needs both, never a third.
  std::vector<float> two(10, -10.0f);
  two[1] = 5.0f;
  two[8] = 5.0f;
  p.top_p = 0.6f;
  const auto got = draw(two, p, 200);
  std::set<int32_t> seen(got.begin(), got.end());
  EXPECT_EQ(seen, (std::set<int32_t>{1, 8}));
}

TEST(CpuSampler, TopKLimitsTheCandidates) {
  const auto l = logits_for(4);
  std::vector<std::pair<float, int32_t>> order;
  for (int32_t i = 0; i < static_cast<int32_t>(l.size()); ++i) order.push_back({-l[i], i});
  std::sort(order.begin(), order.end());
  std::set<int32_t> top3 = {order[0].second, order[1].second, order[2].second};
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 3;
  p.seed = 7;
  for (int32_t t : draw(l, p, 100)) EXPECT_TRUE(top3.count(t)) << t;
}

TEST(CpuSampler, MinPDropsUnlikelyTokens) {
  std::vector<float> l(50, 0.0f);
  l[10] = 3.0f;  // about 20x the others in probability
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.1f;
  p.seed = 5;
  for (int32_t t : draw(l, p, 100)) EXPECT_EQ(t, 10);
  p.min_p = 0.0f;
  const auto free = draw(l, p, 100);
  EXPECT_GT(std::set<int32_t>(free.begin(), free.end()).size(), 1u);
}

TEST(CpuSampler, RepetitionPenaltyDemotesSeenTokens) {
  std::vector<float> l(5, 0.0f);
  l[2] = 2.0f;
  l[3] = 1.5f;
  const int32_t history[] = {2, 2, 42};  // 42 is outside the vocabulary: ignored
  SamplingParams p;
  EXPECT_EQ(draw(l, p, 1)[0], 2);
  p.repetition_penalty = 2.0f;  // 2.0 -> 1.0, below 1.5
  EXPECT_EQ(draw(l, p, 1, history)[0], 3);
  std::vector<float> neg(3, -1.0f);
  neg[0] = -0.6f;  // a negative logit is multiplied: -1.2 falls below the others
  const int32_t h0[] = {0};
  EXPECT_EQ(draw(neg, p, 1)[0], 0);
  EXPECT_EQ(draw(neg, p, 1, h0)[0], 1);
}

TEST(CpuSampler, BadParametersAreRejected) {
  std::vector<float> l = logits_for(5);
  Rng rng(1);
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(sample(l, p, {}, rng), Error);
  p = {};
  p.temperature = -1.0f;
  EXPECT_THROW(sample(l, p, {}, rng), Error);
  p = {};
  p.top_k = -2;
  EXPECT_THROW(sample(l, p, {}, rng), Error);
  std::vector<float> empty;
  EXPECT_THROW(sample(empty, SamplingParams{}, {}, rng), Error);
  std::vector<float> all_nan(4, NAN);
  EXPECT_THROW(sample(all_nan, SamplingParams{}, {}, rng), Error);
}

TEST(CpuSampler, RngUniformIsInUnitInterval) {
  Rng rng(0);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const float u = rng.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

}  // namespace
}  // namespace bricks::cpu
