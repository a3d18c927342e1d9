// rmsnorm, rope, silu_mul, add, softmax and argmax against plain double loops.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/cpu_features.h"
#include "cpu/ops.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

using testing::random_floats;

TEST(CpuOps, RmsnormMatchesDoubleReference) {
  const int64_t rows = 3, dim = 203;
  const auto x = random_floats(rows * dim, 1, -3, 3);
  const auto w = random_floats(dim, 2);
  std::vector<float> y(rows * dim);
  rmsnorm(x.data(), w.data(), rows, dim, 1e-5f, y.data());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += double(x[r * dim + i]) * x[r * dim + i];
    const double scale = 1.0 / std::sqrt(ss / dim + 1e-5);
    for (int64_t i = 0; i < dim; ++i) {
      const double want = x[r * dim + i] * scale * w[i];
      ASSERT_NEAR(y[r * dim + i], want, 1e-5 * std::abs(want) + 1e-7) << r << "," << i;
    }
  }
  std::vector<float> inplace = x;  // y may alias x
  rmsnorm(inplace.data(), w.data(), rows, dim, 1e-5f, inplace.data());
  EXPECT_EQ(inplace, y);
}

TEST(CpuOps, RopeRotatesAdjacentPairsByPositionAngle) {
  const int64_t tokens = 3;
  const int32_t heads = 2, hd = 8;
  const float theta = 10000.0f;
  const int32_t pos[] = {0, 5, 70000};
  const auto x0 = random_floats(tokens * heads * hd, 3);
  std::vector<float> x = x0;
  rope(x.data(), pos, tokens, heads, hd, theta);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int32_t h = 0; h < heads; ++h) {
      for (int32_t i = 0; i < hd / 2; ++i) {
        const double ang = pos[t] * std::pow(double(theta), -2.0 * i / hd);
        const size_t o = (t * heads + h) * hd + 2 * i;
        const double a = x0[o], b = x0[o + 1];
        EXPECT_NEAR(x[o], a * std::cos(ang) - b * std::sin(ang), 2e-6);
        EXPECT_NEAR(x[o + 1], a * std::sin(ang) + b * std::cos(ang), 2e-6);
      }
    }
  }
  for (int i = 0; i < heads * hd; ++i) EXPECT_EQ(x[i], x0[i]);  // position 0 is identity
  EXPECT_THROW(rope(x.data(), pos, 1, 1, 7, theta), Error);
}

// The engine computes the angles once per batch and turns every layer's q and k by them: the
// same floats as rope(), whatever the head count.
TEST(CpuOps, RopeApplyOfAnglesIsRope) {
  const int64_t tokens = 4;
  const int32_t hd = 64;
  const float theta = 500000.0f;
  const int32_t pos[] = {3, 0, 4095, 131071};
  std::vector<float> table;
  rope_angles(pos, tokens, hd, theta, table);
  ASSERT_EQ(table.size(), size_t{tokens * hd});
  EXPECT_EQ(table[size_t{1 * hd}], 1.0f);           // position 0: cos 1
  EXPECT_EQ(table[size_t{1 * hd + hd / 2}], 0.0f);  // and sin 0
  for (const int32_t heads : {1, 4, 32}) {
    const auto x0 = random_floats(tokens * heads * hd, 11);
    std::vector<float> want = x0, got = x0;
    rope(want.data(), pos, tokens, heads, hd, theta);
    rope_apply(got.data(), table.data(), tokens, heads, hd);
    EXPECT_EQ(got, want) << heads << " heads";
  }
  EXPECT_THROW(rope_angles(pos, 1, 6 + 1, theta, table), Error);
}

// Every instruction set's silu: tails of every length, both signs far into exp's clamp, and
// enough values that the call is shared out over threads.
TEST(CpuOps, SiluMulMatchesDoubleReferenceAtEveryIsa) {
  for (const int64_t n : {int64_t{1}, int64_t{15}, int64_t{17}, int64_t{100003}}) {
    auto g = random_floats(n, 7, -30, 30);
    if (n > 4) g[n - 1] = -100.0f, g[n - 2] = 100.0f, g[n - 3] = 0.0f;
    const auto u = random_floats(n, 8);
    for (Isa isa : testing::supported_isas()) {
      set_isa_limit(isa);
      std::vector<float> out(static_cast<size_t>(n));
      silu_mul(g.data(), u.data(), n, out.data());
      for (int64_t i = 0; i < n; ++i) {
        const double want = g[i] / (1.0 + std::exp(-double(g[i]))) * u[i];
        ASSERT_NEAR(out[i], want, 1e-6 * std::abs(want) + 1e-30)
            << to_string(isa) << " n " << n << " g " << g[i];
      }
    }
  }
  set_isa_limit(Isa::Avx512);
}

TEST(CpuOps, SiluMulAndAdd) {
  const auto g = random_floats(37, 4, -8, 8);
  const auto u = random_floats(37, 5);
  std::vector<float> out(37);
  silu_mul(g.data(), u.data(), 37, out.data());
  for (int i = 0; i < 37; ++i) {
    const double want = g[i] / (1.0 + std::exp(-double(g[i]))) * u[i];
    EXPECT_NEAR(out[i], want, 1e-6 * std::abs(want) + 1e-7);
  }
  std::vector<float> y = u;
  add_inplace(y.data(), g.data(), 37);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(y[i], u[i] + g[i]);
}

TEST(CpuOps, SoftmaxSumsToOneAndMatchesReference) {
  auto x = random_floats(100, 6, -20, 20);
  x[3] = -INFINITY;
  const auto x0 = x;
  softmax(x.data(), 100);
  double mx = -INFINITY, sum = 0, total = 0;
  for (float v : x0) mx = std::max(mx, double(v));
  for (float v : x0) sum += std::exp(v - mx);
  for (int i = 0; i < 100; ++i) {
    EXPECT_NEAR(x[i], std::exp(x0[i] - mx) / sum, 1e-6);
    total += x[i];
  }
  EXPECT_EQ(x[3], 0.0f);
  EXPECT_NEAR(total, 1.0, 1e-5);
  float all_masked[2] = {-INFINITY, -INFINITY};
  softmax(all_masked, 2);
  EXPECT_EQ(all_masked[0], 0.5f);
}

TEST(CpuOps, ArgmaxTakesFirstMaximumAndSkipsNan) {
  const float x[] = {1, NAN, 5, 3, 5};
  EXPECT_EQ(argmax(x, 5), 2);
  const float nan_first[] = {NAN, -1};
  EXPECT_EQ(argmax(nan_first, 2), 1);
  EXPECT_EQ(argmax(x, 0), -1);
}

}  // namespace
}  // namespace bricks::cpu
