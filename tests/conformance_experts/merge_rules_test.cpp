// merger/merge's own rules: every merge method on 3-element tensors worked on paper (the
// arithmetic is in the comments), the filters, DARE determinism and SLERP endpoints.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

// base = [1, 2, 3]; x1 = [2, 0, 3]; x2 = [1, 5, 1]; x3 = [4, 2, 3]
// task vectors: t1 = [1, -2, 0]; t2 = [0, 3, -2]; t3 = [3, 0, 0]
const float kBase[] = {1, 2, 3};
const float kX1[] = {2, 0, 3};
const float kX2[] = {1, 5, 1};
const float kX3[] = {4, 2, 3};

struct Merged {
  std::string error;
  int32_t merged = -1;
  std::vector<float> out;
};

Merged merge(const HarnessBrick& brick, const char* name, const float* base,
             std::vector<const float*> inputs, std::vector<float> weights, int64_t numel = 3) {
  const bricks_merge_tensor t{sizeof(t),
                              name,
                              numel,
                              base,
                              inputs.data(),
                              static_cast<int32_t>(inputs.size()),
                              weights.empty() ? nullptr : weights.data()};
  Merged m;
  m.out.assign(static_cast<size_t>(numel), -99.0f);
  m.error = take_error(
      brick.vt<bricks_merger_vtable>()->merge(brick.instance(), &t, m.out.data(), &m.merged));
  return m;
}

std::unique_ptr<HarnessBrick> merger(std::vector<ParamSetting> params) {
  return create_brick(BRICKS_KIND_MERGER, "merge", params);
}

void expect_values(const Merged& m, std::vector<float> want) {
  ASSERT_EQ(m.error, "");
  ASSERT_EQ(m.merged, 1);
  ASSERT_EQ(m.out.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(m.out[i], want[i], 1e-6f) << "element " << i;
}

// (1 * x1 + 3 * x2) / 4 = ([2, 0, 3] + [3, 15, 3]) / 4 = [1.25, 3.75, 1.5]
TEST(Merge, LinearIsWeightedMean) {
  auto b = merger({string_param("method", "linear")});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "w", nullptr, {kX1, kX2}, {1, 3}), {1.25f, 3.75f, 1.5f});
  EXPECT_NE(merge(*b, "w", nullptr, {kX1, kX2}, {1, -1}).error, "");
}

// base + 0.5 * (t1 + t2) = [1, 2, 3] + 0.5 * [1, 1, -2] = [1.5, 2.5, 2]
TEST(Merge, TaskArithmetic) {
  auto b = merger({string_param("method", "task_arithmetic"), float_param("lambda", 0.5)});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "w", kBase, {kX1, kX2}, {1, 1}), {1.5f, 2.5f, 2.0f});
  EXPECT_NE(merge(*b, "w", nullptr, {kX1, kX2}, {1, 1}).error.find("base"), std::string::npos);
}

// density 1/3 keeps round(1) entry per task vector: t1 -> [0, -2, 0], t2 -> [0, 3, 0].
// Sum [0, 1, 0]: element 0 and 2 have no elected sign (delta 0); element 1 elects +,
// only t2 agrees -> 3. out = [1, 2 + 3, 3] = [1, 5, 3].
TEST(Merge, TiesTrimsByMagnitude) {
  auto b = merger({string_param("method", "ties"), float_param("density", 1.0 / 3.0)});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "w", kBase, {kX1, kX2}, {1, 1}), {1, 5, 3});
}

// density 1 keeps all. Sum t1 + t2 + t3 = [4, 1, -2] -> signs [+, +, -].
// Element 0: t1 = 1 and t3 = 3 agree -> mean 2. Element 1: t2 = 3 agrees, t1 = -2 does
// not -> 3. Element 2: t2 = -2 -> -2 (t1, t3 are 0 and do not count).
// out = base + [2, 3, -2] = [3, 5, 1]; with lambda 0.5: [2, 3.5, 2].
TEST(Merge, TiesDisjointMeanOfAgreeingEntries) {
  auto b = merger({string_param("method", "ties"), float_param("density", 1.0)});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "w", kBase, {kX1, kX2, kX3}, {}), {3, 5, 1});
  auto half = merger(
      {string_param("method", "ties"), float_param("density", 1.0), float_param("lambda", 0.5)});
  ASSERT_TRUE(half);
  expect_values(merge(*half, "w", kBase, {kX1, kX2, kX3}, {}), {2, 3.5f, 2});
}

// density 1 drops nothing and rescales by 1: DARE is task arithmetic.
TEST(Merge, DareWithFullDensityIsTaskArithmetic) {
  auto b = merger({string_param("method", "dare"), float_param("density", 1.0)});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "w", kBase, {kX1, kX2}, {1, 1}), {2, 3, 1});
}

// With one input, every element is base (dropped) or base + t / density (kept), about a
// `density` share is kept, the same name and seed give the same tensor, and another seed or
// tensor name gives another draw.
TEST(Merge, DareDropsAndRescalesDeterministically) {
  const int64_t n = 20000;
  std::vector<float> base(n), x(n);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  for (int64_t i = 0; i < n; ++i) {
    base[i] = u(rng);
    x[i] = base[i] + u(rng);
  }
  auto b =
      merger({string_param("method", "dare"), float_param("density", 0.25), int_param("seed", 42)});
  auto b_again =
      merger({string_param("method", "dare"), float_param("density", 0.25), int_param("seed", 42)});
  auto other_seed =
      merger({string_param("method", "dare"), float_param("density", 0.25), int_param("seed", 43)});
  ASSERT_TRUE(b && b_again && other_seed);
  const Merged m = merge(*b, "blk.0.ffn_up.weight", base.data(), {x.data()}, {1}, n);
  ASSERT_EQ(m.error, "");
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float rescaled = base[i] + (x[i] - base[i]) / 0.25f;
    if (std::fabs(m.out[i] - rescaled) < 1e-4f) {
      ++kept;
    } else {
      ASSERT_EQ(m.out[i], base[i]) << "element " << i;
    }
  }
  EXPECT_GT(kept, n * 0.22);
  EXPECT_LT(kept, n * 0.28);
  EXPECT_EQ(merge(*b_again, "blk.0.ffn_up.weight", base.data(), {x.data()}, {1}, n).out, m.out);
  EXPECT_NE(merge(*other_seed, "blk.0.ffn_up.weight", base.data(), {x.data()}, {1}, n).out, m.out);
  EXPECT_NE(merge(*b, "blk.1.ffn_up.weight", base.data(), {x.data()}, {1}, n).out, m.out);
}

// a = [1, 0, 0], b = [0, 1, 0]: theta = pi/2, t = 0.5 gives sin(pi/4) (a + b) =
// [0.70710678, 0.70710678, 0].
TEST(Merge, SlerpOrthogonalMidpoint) {
  auto b = merger({string_param("method", "slerp")});
  ASSERT_TRUE(b);
  const float a[] = {1, 0, 0}, c[] = {0, 1, 0};
  expect_values(merge(*b, "w", nullptr, {a, c}, {}), {0.70710678f, 0.70710678f, 0});
}

TEST(Merge, SlerpEndpointsAndColinearFallback) {
  std::vector<float> a(64), c(64);
  std::mt19937 rng(9);
  std::normal_distribution<float> n;
  for (auto& x : a) x = n(rng);
  for (auto& x : c) x = n(rng);
  auto at0 = merger({string_param("method", "slerp"), float_param("t", 0.0)});
  auto at1 = merger({string_param("method", "slerp"), float_param("t", 1.0)});
  auto mid = merger({string_param("method", "slerp")});
  ASSERT_TRUE(at0 && at1 && mid);
  EXPECT_EQ(merge(*at0, "w", nullptr, {a.data(), c.data()}, {}, 64).out, a);
  EXPECT_EQ(merge(*at1, "w", nullptr, {a.data(), c.data()}, {}, 64).out, c);
  // [1, 2, 3] and [2, 4, 6] are colinear: plain (a + b) / 2 = [1.5, 3, 4.5].
  const float p[] = {1, 2, 3}, q[] = {2, 4, 6};
  expect_values(merge(*mid, "w", nullptr, {p, q}, {}), {1.5f, 3, 4.5f});
  EXPECT_NE(merge(*mid, "w", nullptr, {kX1, kX2, kX3}, {}).error.find("exactly 2"),
            std::string::npos);
}

TEST(Merge, FiltersLeaveTensorsAlone) {
  auto b = merger({string_param("include", "^blk\\.0\\."), string_param("exclude", "ffn_up")});
  ASSERT_TRUE(b);
  expect_values(merge(*b, "blk.0.attn_q.weight", nullptr, {kX1, kX2}, {}), {1.5f, 2.5f, 2});
  for (const char* name : {"blk.1.attn_q.weight", "blk.0.ffn_up.weight", "output.weight"}) {
    const Merged m = merge(*b, name, nullptr, {kX1, kX2}, {});
    EXPECT_EQ(m.error, "") << name;
    EXPECT_EQ(m.merged, 0) << name;
    EXPECT_EQ(m.out, std::vector<float>(3, -99.0f)) << name << " was written";
  }
}

TEST(Merge, InvalidRegexFailsAtCreate) {
  EXPECT_NONFATAL_FAILURE(merger({string_param("include", "blk.([")}), "regular expression");
}

// Every method returns a checkpoint merged with copies of itself (and its own base).
TEST(Merge, EveryMethodIsIdempotentOnIdenticalInputs) {
  for (const char* method : {"linear", "task_arithmetic", "ties", "dare", "slerp"}) {
    auto b = merger({string_param("method", method)});
    ASSERT_TRUE(b);
    expect_values(merge(*b, "w", kX3, {kX3, kX3}, {0.3f, 0.7f}), {4, 2, 3});
  }
}

// merge() may be called from several threads at once: same answers as one at a time.
TEST(Merge, ConcurrentCallsAgree) {
  auto b = merger({string_param("method", "dare"), int_param("seed", 3)});
  ASSERT_TRUE(b);
  const int64_t n = 4096;
  std::vector<float> base(n, 1.0f), x(n, 2.0f);
  const std::vector<float> want = merge(*b, "t", base.data(), {x.data()}, {1}, n).out;
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { got[i] = merge(*b, "t", base.data(), {x.data()}, {1}, n).out; });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace bricks::testing
