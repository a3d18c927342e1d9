// The integer GEMV kernels (cpu/quant_dot.h) of every family against a double-precision
// loop, for every quantized weight type.
//
// Two checks per output, with S = sum_k |w_k * xq_k| over the dequantized weights
// (model::to_f32) and the dequantized 8-bit activations xq:
//   against sum_k w_k * xq_k: |y - ref| <= 1e-5 * S (the integer dot products are exact, only
//     the f32 scaling and summation order differ);
//   against sum_k w_k * x_k (the float activations): the activation rounding bound
//     (weight_fixtures.h) on top.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bricks/model/dtype.h"
#include "cpu/cpu_features.h"
#include "cpu/linear.h"
#include "cpu/quant_dot.h"
#include "cpu/threads.h"
#include "quant_fixtures.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

using detail::QuantIsa;
using testing::RandomWeights;

const WeightType kQuantTypes[] = {WeightType::Q8_0, WeightType::Q4_0, WeightType::Q4_1,
                                  WeightType::Q5_0, WeightType::Q5_1, WeightType::Q4_K,
                                  WeightType::Q5_K, WeightType::Q6_K};
// Up to 4 rows the AVX512_VNNI kernels of q8_0, q4_0 and the k-quants decode weights in
// registers; from 5 they transpose weights and activations into panels whose int32 lanes
// each sum one block or group (quant_rows_avx512.h). From 8 the plain AVX2 family's q4_K,
// q5_K and q8_0 transpose panels of 8 weight rows (quant_dot_ymm_q8k_rows.inc,
// quant_dot_ymm_q8_rows.inc).
const int64_t kMs[] = {1, 2, 3, 4, 5, 8, 16, 17};

struct Shape {
  int64_t rows, cols;
};

// Rows not a multiple of 4 (the kernels' row group); 96 columns are 3 blocks of 32, so the
// zmm kernels end on half a vector; 768 are 3 k-quant super-blocks. 19 rows, split at 10 by
// run_kernel, give each range one panel of 8 rows and some rows left over.
std::vector<Shape> shapes_for(WeightType t) {
  if (model::dtype_block(t).values == 256) return {{11, 256}, {6, 768}, {19, 512}};
  return {{13, 96}, {7, 320}, {5, 32}, {19, 96}};
}

// Runs `kernel` as Linear does, but over two row ranges and two activation passes, so that
// nonzero n0 and i0 are exercised.
std::vector<float> run_kernel(detail::QuantGemvFn kernel, const WeightView& w,
                              const detail::QuantizedActivations& qx) {
  std::vector<float> y(static_cast<size_t>(qx.m * w.rows), -12345.0f);
  const int64_t split_m = qx.m / 2, split_n = w.rows / 2 + 1;
  for (auto [i0, i1] : {std::pair<int64_t, int64_t>{0, split_m}, {split_m, qx.m}}) {
    if (i0 == i1) continue;
    detail::QuantGemvArgs a;
    a.w = static_cast<const char*>(w.data);
    a.row_bytes = row_bytes(w.type, w.cols);
    a.cols = w.cols;
    a.x = &qx;
    a.i0 = i0;
    a.m = i1 - i0;
    a.y = y.data() + i0 * w.rows;
    a.ldy = w.rows;
    kernel(a, 0, split_n);
    kernel(a, split_n, w.rows);
  }
  return y;
}

// The forms of the activations that family `isa`'s kernel of `type` reads, and only those:
// a kernel reading a form it was not given fails.
detail::ActivationForms forms_for(QuantIsa isa, WeightType type) {
  return detail::quant_uses_q8k(isa, type) ? detail::ActivationForms::SuperBlocks
                                           : detail::ActivationForms::Blocks;
}

class QuantDot : public ::testing::TestWithParam<QuantIsa> {};

TEST_P(QuantDot, EveryTypeMatchesReferenceOnQuantizedAndFloatActivations) {
  const QuantIsa isa = GetParam();
  if (!detail::quant_isa_supported(isa)) {
    GTEST_SKIP() << "this CPU lacks the instruction set of the " << detail::to_string(isa)
                 << " kernels";
  }
  for (WeightType type : kQuantTypes) {
    const detail::QuantGemvFn kernel = detail::quant_gemv_kernel(isa, type);
    ASSERT_NE(kernel, nullptr) << to_string(type);
    const bool q8k = detail::quant_uses_q8k(isa, type);
    for (Shape s : shapes_for(type)) {
      const RandomWeights w(type, s.rows, s.cols, 3u + static_cast<uint32_t>(s.cols));
      for (int64_t m : kMs) {
        const std::vector<float> x =
            testing::varied_activations(m, s.cols, 17u + static_cast<uint32_t>(m));
        detail::QuantizedActivations qx;
        detail::quantize_activations(x.data(), m, s.cols, qx, forms_for(isa, type));
        const std::vector<float> xq = testing::dequantized(qx, q8k);
        const std::vector<float> y = run_kernel(kernel, w.view, qx);
        const auto ref_q = testing::reference_product(w.view, xq.data(), m);
        const auto ref_x = testing::reference_product(w.view, x.data(), m);
        const auto bound =
            testing::activation_rounding_bound(w.view, x.data(), m, q8k ? model::kQKK : 32);
        int failures = 0;
        for (size_t j = 0; j < y.size() && failures < 3; ++j) {
          const double err_q = std::abs(y[j] - ref_q.y[j]);
          const double err_x = std::abs(y[j] - ref_x.y[j]);
          const bool ok_q = err_q <= 1e-5 * ref_q.abs[j] + 1e-30;
          const bool ok_x = err_x <= 1e-5 * ref_x.abs[j] + bound[j] + 1e-30;
          if (!ok_q || !ok_x) {
            ADD_FAILURE() << detail::to_string(isa) << " " << to_string(type) << " " << s.rows
                          << "x" << s.cols << " m=" << m << " output " << j << ": got " << y[j]
                          << ", want " << ref_q.y[j] << " (scale " << ref_q.abs[j]
                          << ") on the quantized activations, " << ref_x.y[j] << " (bound "
                          << bound[j] << ") on the float ones";
            ++failures;
          }
        }
      }
    }
  }
}

// The matrix ends right before a page that may not be read: a kernel that loads a weight
// byte past the last row (a whole 64-value step where the row ends on half of one) faults
// here, in every build, where only the sanitizer build would otherwise see it.
TEST_P(QuantDot, NoKernelReadsPastTheLastRow) {
  const QuantIsa isa = GetParam();
  if (!detail::quant_isa_supported(isa)) {
    GTEST_SKIP() << "this CPU lacks the instruction set of the " << detail::to_string(isa)
                 << " kernels";
  }
  for (WeightType type : kQuantTypes) {
    for (Shape s : shapes_for(type)) {
      const RandomWeights w(type, s.rows, s.cols, 21);
      const testing::GuardedBytes edge(w.bytes.data(), w.bytes.size());
      ASSERT_NE(edge.data(), nullptr);
      const WeightView view{type, s.rows, s.cols, edge.data()};
      for (int64_t m : kMs) {
        const std::vector<float> x =
            testing::varied_activations(m, s.cols, 5u + static_cast<uint32_t>(m));
        detail::QuantizedActivations qx;
        detail::quantize_activations(x.data(), m, s.cols, qx, forms_for(isa, type));
        const std::vector<float> y = run_kernel(detail::quant_gemv_kernel(isa, type), view, qx);
        const std::vector<float> want =
            run_kernel(detail::quant_gemv_kernel(isa, type), w.view, qx);
        EXPECT_EQ(y, want) << detail::to_string(isa) << " " << to_string(type) << " " << s.rows
                           << "x" << s.cols << " m=" << m;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, QuantDot,
                         ::testing::Values(QuantIsa::Scalar, QuantIsa::Avx2, QuantIsa::AvxVnni,
                                           QuantIsa::Avx512Vnni),
                         [](const ::testing::TestParamInfo<QuantIsa>& p) {
                           std::string name = detail::to_string(p.param);
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// The k-quants at their largest products: every value at its maximum (q4_K 15, q5_K 31,
// q6_K 63), the largest scales (q6_K's int8 at -128 and 127) and activations all at +-127
// in blocks of 32, at -128 in the super-block form (each row is all 1 or all -1, so both
// forms hold it exactly). The int16 pair sums of the AVX2 kernels (vpmaddubsw) then reach
// 16002 (16128 on super-blocks), their int32 sums of a whole super-block and the many-row
// kernels' sums of a whole group, offset included, their largest values; any saturation or
// overflow would show against the reference.
TEST(QuantDotLinear, KQuantsAtTheirLargestProductsMatchTheReference) {
  for (WeightType type : {WeightType::Q4_K, WeightType::Q5_K, WeightType::Q6_K}) {
    const int64_t rows = 9, cols = 512;
    RandomWeights w(type, rows, cols, 5);
    const size_t block = row_bytes(type, model::kQKK);
    const uint16_t one = f32_to_f16_bits(1.0f);
    for (size_t b = 0; b < w.bytes.size() / block; ++b) {
      unsigned char* blk = w.bytes.data() + b * block;
      if (type == WeightType::Q6_K) {
        auto* q6 = reinterpret_cast<model::BlockQ6_K*>(blk);
        std::memset(q6->ql, 0xFF, sizeof(q6->ql));
        std::memset(q6->qh, 0xFF, sizeof(q6->qh));
        for (int g = 0; g < 16; ++g) q6->scales[g] = static_cast<int8_t>(g % 2 == 0 ? -128 : 127);
        q6->d = one;
      } else {
        auto* k4 = reinterpret_cast<model::BlockQ4_K*>(blk);  // d, dmin, scales lead both
        k4->d = one;
        k4->dmin = one;
        std::memset(k4->scales, 0xFF, sizeof(k4->scales));                  // every sc and mn 63
        std::memset(blk + block - model::kQKK / 2, 0xFF, model::kQKK / 2);  // qs
        if (type == WeightType::Q5_K) {
          std::memset(reinterpret_cast<model::BlockQ5_K*>(blk)->qh, 0xFF, model::kQKK / 8);
        }
      }
    }
    for (int64_t m : {1, 5, 16}) {
      std::vector<float> x(static_cast<size_t>(m * cols));
      for (size_t k = 0; k < x.size(); ++k) x[k] = (k / cols) % 2 == 0 ? 1.0f : -1.0f;
      detail::QuantizedActivations qx;
      detail::quantize_activations(x.data(), m, cols, qx);
      const auto ref = testing::reference_product(w.view, testing::dequantized(qx).data(), m);
      const Linear lin(w.view, Compute::F32, LinearOptions{-1});
      std::vector<float> y(static_cast<size_t>(m * rows));
      lin.forward(x.data(), m, y.data());
      for (size_t j = 0; j < y.size(); ++j) {
        ASSERT_NEAR(y[j], ref.y[j], 1e-5 * ref.abs[j]) << to_string(type) << " m=" << m << " " << j;
      }
    }
  }
}

TEST(QuantDotActivations, BlocksAreScaledByTheirMaximumAndPadded) {
  std::vector<float> x(64);
  for (int k = 0; k < 64; ++k) x[k] = k < 32 ? 0.5f * static_cast<float>(k - 16) : 0.0f;
  detail::QuantizedActivations qx;
  detail::quantize_activations(x.data(), 1, 64, qx);
  EXPECT_EQ(qx.padded, 64);
  EXPECT_FLOAT_EQ(qx.d[0], 8.0f / 127.0f);
  EXPECT_EQ(qx.q[0], -127);  // -8 is the block's maximum magnitude
  EXPECT_EQ(qx.q[16], 0);
  EXPECT_EQ(qx.d[8], 0.0f);  // the zero block
  EXPECT_EQ(qx.q[40], 0);
  const float s0 = qx.d[0] * static_cast<float>(qx.q[0] + qx.q[1] + qx.q[2] + qx.q[3]);
  EXPECT_FLOAT_EQ(qx.s[0], s0);

  detail::quantize_activations(x.data(), 1, 32, qx);  // 32 columns pad to 64
  EXPECT_EQ(qx.padded, 64);
  for (int k = 32; k < 64; ++k) EXPECT_EQ(qx.q[k], 0);
  for (int l = 8; l < 16; ++l) EXPECT_EQ(qx.d[l], 0.0f);
}

// The super-block form (the plain AVX2 family's k-quant kernels): one scale per 256 values,
// and the sum of each 16 bytes.
TEST(QuantDotActivations, SuperBlocksAreScaledByTheirMaximum) {
  std::vector<float> x(768, 0.0f);
  for (int k = 0; k < 256; ++k) x[k] = 0.25f * static_cast<float>(k - 128);  // -32 .. 31.75
  x[512 + 7] = std::numeric_limits<float>::quiet_NaN();                      // the third
  detail::QuantizedActivations qx;
  detail::quantize_activations(x.data(), 1, 768, qx, detail::ActivationForms::Both);
  ASSERT_TRUE(qx.has_q8k);
  ASSERT_EQ(qx.q8k.size(), 768u);
  ASSERT_EQ(qx.s8k.size(), 48u);
  // The largest magnitude, -32, maps to -128: every value x to 4x, d = 1/4.
  EXPECT_EQ(qx.d8k[0], 0.25f);
  for (int k = 0; k < 256; ++k) ASSERT_EQ(qx.q8k[k], k - 128) << k;
  EXPECT_EQ(qx.q[0], -127);  // the blocks of 32 keep their own scales
  EXPECT_EQ(qx.q[32], -127);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int k = 16 * g; k < 16 * g + 16; ++k) sum += qx.q8k[k];
    EXPECT_EQ(qx.s8k[g], sum) << "group " << g;
  }
  EXPECT_EQ(qx.d8k[1], 0.0f);  // a zero super-block
  for (int g = 16; g < 32; ++g) EXPECT_EQ(qx.s8k[g], 0) << g;
  EXPECT_TRUE(std::isnan(qx.d8k[2]));

  // A positive maximum maps to -128 too, the others by the same scale: 3 * -128 / 8 = -48,
  // and -8 to 128, held at 127; 5 * -16 = -80 and 0.1 * -16 = -1.6 round to -80 and -2;
  // -1.5 * -16 = 24.
  std::vector<float> y(256, 0.0f);
  y[9] = 8.0f;
  y[10] = -8.0f;  // as large, but later: 8.0 stays the maximum
  y[11] = 3.0f;
  y[12] = 5.0f;
  y[13] = 0.1f;
  y[14] = -1.5f;
  detail::quantize_activations(y.data(), 1, 256, qx, detail::ActivationForms::SuperBlocks);
  EXPECT_EQ(qx.d8k[0], -0.0625f);
  EXPECT_EQ(qx.q8k[9], -128);
  EXPECT_EQ(qx.q8k[10], 127);
  EXPECT_EQ(qx.q8k[11], -48);
  EXPECT_EQ(qx.q8k[12], -80);
  EXPECT_EQ(qx.q8k[13], -2);
  EXPECT_EQ(qx.q8k[14], 24);
  EXPECT_EQ(qx.s8k[0], -128 + 127 - 48 - 80 - 2 + 24);

  detail::quantize_activations(x.data(), 1, 96, qx,
                               detail::ActivationForms::Both);  // not whole super-blocks
  EXPECT_FALSE(qx.has_q8k);
  detail::quantize_activations(x.data(), 1, 768, qx);  // not asked for
  EXPECT_FALSE(qx.has_q8k);
}

// Many rows are quantized on all threads; each row's bytes, scales and super-block sums are
// the same as one thread makes them, row by row.
TEST(QuantDotActivations, ManyRowsOnAllThreadsMatchOneRowAtATime) {
  constexpr int64_t kRows = 48, kCols = 2304;  // 110592 values: the threaded path
  const std::vector<float> x = testing::random_floats(kRows * kCols, 4);
  set_num_threads(2);
  detail::QuantizedActivations all;
  detail::quantize_activations(x.data(), kRows, kCols, all, detail::ActivationForms::Both);
  set_num_threads(0);
  ASSERT_EQ(all.m, kRows);
  detail::QuantizedActivations one;
  const int64_t lanes = all.padded / detail::kQuantLane;
  for (int64_t i = 0; i < kRows; ++i) {
    detail::quantize_activations(x.data() + i * kCols, 1, kCols, one,
                                 detail::ActivationForms::Both);
    ASSERT_EQ(one.padded, all.padded);
    ASSERT_EQ(one.super_stride, all.super_stride);
    EXPECT_EQ(std::memcmp(one.q.data(), all.q.data() + i * all.padded, one.q.size()), 0) << i;
    EXPECT_EQ(std::memcmp(one.d.data(), all.d.data() + i * lanes, one.d.size() * 4), 0) << i;
    EXPECT_EQ(std::memcmp(one.s.data(), all.s.data() + i * lanes, one.s.size() * 4), 0) << i;
    EXPECT_EQ(std::memcmp(one.k.data(), all.k.data() + i * all.super_stride, one.k.size() * 4), 0)
        << i;
    EXPECT_EQ(std::memcmp(one.q8k.data(), all.q8k.data() + i * kCols, kCols), 0) << i;
    EXPECT_EQ(std::memcmp(one.d8k.data(), all.d8k.data() + i * kCols / 256, kCols / 256 * 4), 0)
        << i;
    EXPECT_EQ(std::memcmp(one.s8k.data(), all.s8k.data() + i * kCols / 16, kCols / 16 * 2), 0) << i;
  }
}

// Equal bits, or both NaN (the SIMD quantizers' NaN scale may differ from the portable one's
// in sign or payload).
bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

// Block b of n random values (n = 32 or 256) made into case b % 8 of the quantizers'
// probes: ties at +-k.5 after scaling, -0, values that scale to denormal steps, zero blocks,
// NaN or an infinity, large values; the others stay random.
void probe_block(float* blk, int64_t n, int64_t b) {
  switch (b % 8) {
    case 0:  // max 127: the blocks of 32 scale by 1 and every value lands on a tie
      for (int64_t j = 0; j < n; ++j)
        blk[j] = static_cast<float>(j % 2 ? j % 127 : -(j % 127)) - 0.5f;
      blk[5] = 127.0f;
      break;
    case 1:
      std::fill(blk, blk + n, 0.0f);
      blk[3] = -0.0f;
      break;
    case 2:  // a denormal scale
      for (int64_t j = 0; j < n; ++j) blk[j] *= 1e-38f;
      break;
    case 3:
      blk[b * 7 % n] = std::numeric_limits<float>::quiet_NaN();
      break;
    case 4:
      blk[n - 1] = -std::numeric_limits<float>::infinity();
      break;
    case 5:
      for (int64_t j = 0; j < n; ++j) blk[j] *= 3e4f;
      break;
    default:
      break;
  }
}

// The AVX2 and AVX-512 row quantizers against the portable one, byte for byte, on blocks
// that probe every rounding case: ties at +-k.5 after scaling, -0, values that scale to
// denormal steps, zero blocks, and blocks with NaN or an infinity.
TEST(QuantDotActivations, SimdQuantizersGiveThePortableBytes) {
  constexpr int64_t kBlocks = 64, kCols = kBlocks * detail::kQuantBlock;
  std::vector<float> x = testing::random_floats(kCols, 11);
  for (int64_t b = 0; b < kBlocks; ++b) probe_block(x.data() + b * 32, 32, b);
  const int64_t lanes = kCols / detail::kQuantLane;
  std::vector<int8_t> want_q(kCols), got_q(kCols);
  std::vector<float> want_d(lanes), want_s(lanes), got_d(lanes), got_s(lanes);
  detail::quantize_row_portable(x.data(), kCols, want_q.data(), want_d.data(), want_s.data());
  struct Simd {
    const char* name;
    bool runs;
    detail::QuantizeRowFn fn;
  };
  const Simd simds[] = {{"avx2", best_isa() >= Isa::Avx2, detail::quantize_row_avx2},
                        {"avx512", best_isa() >= Isa::Avx512, detail::quantize_row_avx512}};
  int ran = 0;
  for (const Simd& v : simds) {
    if (!v.runs) continue;
    ++ran;
    v.fn(x.data(), kCols, got_q.data(), got_d.data(), got_s.data());
    for (int64_t k = 0; k < kCols; ++k) ASSERT_EQ(got_q[k], want_q[k]) << v.name << " value " << k;
    for (int64_t l = 0; l < lanes; ++l) {
      ASSERT_TRUE(same_float(got_d[l], want_d[l])) << v.name << " d of lane " << l;
      ASSERT_TRUE(same_float(got_s[l], want_s[l])) << v.name << " s of lane " << l;
    }
  }
  if (ran == 0) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
}

// The AVX2 super-block quantizer against the portable one, on super-blocks that probe the
// same cases (probe_block), one case per super-block.
TEST(QuantDotActivations, SimdSuperBlockQuantizerGivesThePortableBytes) {
  if (best_isa() < Isa::Avx2) GTEST_SKIP() << "this CPU lacks AVX2";
  constexpr int64_t kSupers = 16, kCols = kSupers * 256;
  std::vector<float> x = testing::random_floats(kCols, 12);
  for (int64_t b = 0; b < kSupers; ++b) probe_block(x.data() + b * 256, 256, b);
  std::vector<int8_t> want_q(kCols), got_q(kCols);
  std::vector<float> want_d(kSupers), got_d(kSupers);
  std::vector<int16_t> want_s(kCols / 16), got_s(kCols / 16);
  detail::quantize_super_row_portable(x.data(), kCols, want_q.data(), want_d.data(), want_s.data());
  detail::quantize_super_row_avx2(x.data(), kCols, got_q.data(), got_d.data(), got_s.data());
  for (int64_t k = 0; k < kCols; ++k) {
    ASSERT_EQ(got_q[k], want_q[k]) << "value " << k << " = " << x[k] << " of super-block "
                                   << k / 256 << ", d " << want_d[k / 256];
  }
  for (int64_t g = 0; g < kCols / 16; ++g) ASSERT_EQ(got_s[g], want_s[g]) << "sum " << g;
  for (int64_t b = 0; b < kSupers; ++b) {
    EXPECT_TRUE(same_float(got_d[b], want_d[b])) << "super-block " << b;
  }
  EXPECT_TRUE(std::isnan(want_d[3]) && std::isnan(want_d[4]));
  EXPECT_EQ(want_d[1], 0.0f);
}

TEST(QuantDotActivations, NanOrInfinityInABlockGivesNanOutputs) {
  const RandomWeights w(WeightType::Q4_0, 4, 64, 1);
  const Linear lin(w.view, Compute::F32, LinearOptions{-1});
  std::vector<float> x = testing::random_floats(2 * 64, 2);
  x[40] = std::numeric_limits<float>::infinity();  // row 0, second block
  std::vector<float> y(2 * 4);
  lin.forward(x.data(), 2, y.data());
  for (int n = 0; n < 4; ++n) {
    EXPECT_TRUE(std::isnan(y[n])) << n;
    EXPECT_TRUE(std::isfinite(y[4 + n])) << n;
  }
}

TEST(QuantDotLinear, BlockTypesTakeTheIntegerPathInEveryComputeMode) {
  for (WeightType type : kQuantTypes) {
    const Shape s = shapes_for(type)[0];
    const RandomWeights w(type, s.rows, s.cols, 9);
    const std::vector<float> x = testing::varied_activations(3, s.cols, 4);
    detail::QuantizedActivations qx;
    const detail::QuantIsa isa = detail::quant_isa_for(active_isa());
    detail::quantize_activations(x.data(), 3, s.cols, qx, forms_for(isa, type));
    const std::vector<float> want = run_kernel(detail::quant_gemv_kernel(isa, type), w.view, qx);
    for (Compute c : {Compute::F32, Compute::BF16}) {
      const Linear lin(w.view, c, LinearOptions{-1});
      const std::string d = lin.describe();
      EXPECT_NE(d.find(std::string(to_string(type)) + " x q8 int8 dot " + detail::to_string(isa)),
                std::string::npos)
          << d;
      std::vector<float> y(want.size());
      lin.forward(x.data(), 3, y.data());
      EXPECT_EQ(y, want) << d;
    }
  }
}

}  // namespace
}  // namespace bricks::cpu
