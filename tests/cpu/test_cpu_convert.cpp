// f16/bf16 conversions (scalar bit rules and every SIMD level agree), row dequantisation
// and embedding gathers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/convert.h"
#include "cpu/cpu_features.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

using testing::supported_isas;

bool same_bits(float a, float b) {
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

TEST(CpuConvert, F16ScalarKnownValues) {
  EXPECT_EQ(f16_bits_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_bits_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_bits_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_bits_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(f16_bits_to_f32(0x7c00)));
  EXPECT_TRUE(std::isnan(f16_bits_to_f32(0x7e00)));
  EXPECT_EQ(f32_to_f16_bits(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16_bits(65520.0f), 0x7c00);  // halfway past the max rounds to inf
  EXPECT_EQ(f32_to_f16_bits(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(std::ldexp(1.0f, -25)), 0x0000);         // tie to even (zero)
  EXPECT_EQ(f32_to_f16_bits(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 ulp ties to even 2
  EXPECT_EQ(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(f32_to_f16_bits(-0.0f), 0x8000);
}

TEST(CpuConvert, F16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_bits_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16_bits(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(CpuConvert, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(bf16_bits_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie, even below
  EXPECT_EQ(f32_to_bf16_bits(1.0f + std::ldexp(3.0f, -8)), 0x3f82);  // tie, even above
  EXPECT_TRUE(std::isnan(bf16_bits_to_f32(f32_to_bf16_bits(std::nanf("")))));
  EXPECT_EQ(round_to_bf16(3.0f), 3.0f);
}

// Values that exercise rounding, subnormals, overflow and NaN.
std::vector<float> tricky_floats(int64_t n) {
  std::vector<float> v = testing::random_floats(n, 42, -70000.0f, 70000.0f);
  const float special[] = {0.0f,          -0.0f,         1e-8f,
                           -3e-6f,        6.1e-5f,       65504.0f,
                           65520.0f,      1e30f,         -std::numeric_limits<float>::infinity(),
                           std::nanf(""), 1.00048828125f};
  for (size_t i = 0; i < std::size(special); ++i) v[i * 3] = special[i];
  for (int64_t i = 0; i < n; i += 7) v[i] *= 1e-6f;
  return v;
}

TEST(CpuConvert, ArrayConversionsMatchScalarAtEveryIsa) {
  const int64_t n = 1003;  // not a multiple of any vector width
  const std::vector<float> f = tricky_floats(n);
  for (Isa isa : supported_isas()) {
    set_isa_limit(isa);
    std::vector<uint16_t> h(n), b(n), hb(n);
    std::vector<float> hf(n), bf(n);
    f32_to_f16(f.data(), h.data(), n);
    f32_to_bf16(f.data(), b.data(), n);
    f16_to_bf16(h.data(), hb.data(), n);
    f16_to_f32(h.data(), hf.data(), n);
    bf16_to_f32(b.data(), bf.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(h[i], f32_to_f16_bits(f[i])) << to_string(isa) << " f16 of " << f[i];
      ASSERT_EQ(b[i], f32_to_bf16_bits(f[i])) << to_string(isa) << " bf16 of " << f[i];
      ASSERT_TRUE(same_bits(hf[i], f16_bits_to_f32(h[i]))) << to_string(isa) << " at " << i;
      ASSERT_TRUE(same_bits(bf[i], bf16_bits_to_f32(b[i]))) << to_string(isa) << " at " << i;
      ASSERT_EQ(hb[i], f32_to_bf16_bits(f16_bits_to_f32(h[i]))) << to_string(isa) << " at " << i;
    }
  }
  set_isa_limit(Isa::Avx512);
}

// Every f16 bit pattern (NaNs, infinities, subnormals included) goes to the bf16 that the
// two steps through f32 give, at every instruction set.
TEST(CpuConvert, F16ToBf16MatchesTwoStepsForEveryHalf) {
  std::vector<uint16_t> h(65536), b(65536);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i);
  for (Isa isa : supported_isas()) {
    set_isa_limit(isa);
    f16_to_bf16(h.data(), b.data(), static_cast<int64_t>(h.size()));
    for (size_t i = 0; i < h.size(); ++i) {
      const uint16_t want = f32_to_bf16_bits(f16_bits_to_f32(h[i]));
      ASSERT_EQ(b[i], want) << to_string(isa) << " half 0x" << std::hex << h[i];
    }
  }
  set_isa_limit(Isa::Avx512);
}

TEST(CpuConvert, DequantizeQ8RowIsScaleTimesQuants) {
  std::vector<unsigned char> bytes(2 * kQ8BlockBytes);
  const uint16_t d = f32_to_f16_bits(0.5f);
  for (int b = 0; b < 2; ++b) {
    std::memcpy(bytes.data() + b * kQ8BlockBytes, &d, 2);
    for (int j = 0; j < 32; ++j) {
      bytes[b * kQ8BlockBytes + 2 + j] = static_cast<unsigned char>(static_cast<int8_t>(j - 16));
    }
  }
  const WeightView w{WeightType::Q8_0, 1, 64, bytes.data()};
  std::vector<float> out(64);
  dequantize_row(w, 0, out.data());
  for (int k = 0; k < 64; ++k) EXPECT_EQ(out[k], 0.5f * ((k % 32) - 16)) << k;
  EXPECT_THROW(dequantize_row(w, 1, out.data()), Error);
}

TEST(CpuConvert, EmbedRowsGathersEveryTypeAndRejectsBadIds) {
  for (WeightType t : {WeightType::F32, WeightType::F16, WeightType::BF16, WeightType::Q8_0}) {
    const testing::RandomWeights table(t, 10, 64, 3);
    const int32_t ids[] = {7, 0, 7, 9};
    std::vector<float> out(4 * 64), row(64);
    embed_rows(table.view, ids, 4, out.data());
    for (int i = 0; i < 4; ++i) {
      dequantize_row(table.view, ids[i], row.data());
      for (int k = 0; k < 64; ++k) ASSERT_EQ(out[i * 64 + k], row[k]) << to_string(t);
    }
    const int32_t bad[] = {1, 10};
    try {
      embed_rows(table.view, bad, 2, out.data());
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
    }
  }
}

TEST(CpuConvert, DequantizeRowsBf16MatchesRoundedRows) {
  const testing::RandomWeights w(WeightType::F16, 5, 96, 4);
  std::vector<uint16_t> out(3 * 96);
  dequantize_rows_bf16(w.view, 1, 3, out.data());
  std::vector<float> row(96);
  for (int r = 0; r < 3; ++r) {
    dequantize_row(w.view, 1 + r, row.data());
    for (int k = 0; k < 96; ++k) ASSERT_EQ(out[r * 96 + k], f32_to_bf16_bits(row[k]));
  }
}

TEST(CpuConvert, FeaturesAreConsistent) {
  const CpuFeatures& f = cpu_features();
  if (f.avx512bf16 || f.avx512fp16 || f.avx512vnni) {
    EXPECT_TRUE(f.avx512f);
  }
  if (best_isa() == Isa::Avx512) {
    EXPECT_TRUE(f.avx512f && f.fma && f.f16c);
  }
  set_isa_limit(Isa::Scalar);
  EXPECT_EQ(active_isa(), Isa::Scalar);
  set_isa_limit(Isa::Avx512);
  EXPECT_EQ(active_isa(), best_isa());
}

}  // namespace
}  // namespace bricks::cpu
