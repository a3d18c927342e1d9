// Scalar conversions and Q8_0 blocks, checked against values worked out from the formats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "bricks/model/dtype.h"

namespace bricks::model {
namespace {

TEST(DType, HalfKnownValues) {
  EXPECT_EQ(f32_to_f16(1.f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.f), 0xC000);
  EXPECT_EQ(f32_to_f16(65504.f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.f), 0x7C00);          // rounds up to infinity
  EXPECT_EQ(f32_to_f16(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.f, -25)), 0x0000);  // tie rounds to even (zero)
  EXPECT_EQ(f32_to_f16(std::ldexp(3.f, -25)), 0x0002);  // 1.5 ulp ties to even (2)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f32_to_f16(1.f + std::ldexp(1.f, -11)), 0x3C00);  // tie to even
  EXPECT_EQ(f32_to_f16(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.f, -24));
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.f, -24));
  EXPECT_TRUE(std::isinf(f16_to_f32(0xFC00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
  for (uint32_t h = 0; h < 0x10000; ++h) {  // every finite half survives the round trip
    const auto x = static_cast<uint16_t>(h);
    if ((x & 0x7C00) == 0x7C00) continue;
    ASSERT_EQ(f32_to_f16(f16_to_f32(x)), x) << h;
  }
}

TEST(DType, BFloatKnownValues) {
  EXPECT_EQ(f32_to_bf16(1.f), 0x3F80);
  EXPECT_EQ(bf16_to_f32(0xC040), -3.f);
  EXPECT_EQ(f32_to_bf16(1.f + std::ldexp(1.f, -8)), 0x3F80);      // tie to even
  EXPECT_EQ(f32_to_bf16(1.f + 3 * std::ldexp(1.f, -8)), 0x3F82);  // tie to even (up)
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, Q8_0Block) {
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i - 32) / 8.f;  // block 0 max |x| = 4
  std::vector<std::byte> q(*dtype_bytes(DType::Q8_0, 64));
  ASSERT_EQ(q.size(), 68u);
  quantize_q8_0(x, q);
  uint16_t d;
  std::memcpy(&d, q.data(), 2);
  EXPECT_EQ(d, f32_to_f16(4.f / 127.f));
  EXPECT_EQ(static_cast<int8_t>(q[2]), -127);  // x[0] = -4
  std::vector<float> back(64);
  to_f32(DType::Q8_0, q.data(), back);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(back[i], x[i], 4.f / 127.f) << i;
  EXPECT_EQ(dtype_bytes(DType::Q8_0, 33), std::nullopt);
}

// Sizes that do not fit in size_t are no size at all, never a wrapped small one.
TEST(DType, BytesOverflowIsNoSize) {
  const int64_t huge = int64_t{1} << 62;
  EXPECT_EQ(dtype_bytes(DType::F32, huge), std::nullopt);
  EXPECT_EQ(dtype_bytes(DType::F16, huge), size_t{1} << 63);
  EXPECT_EQ(dtype_bytes(DType::F32, std::numeric_limits<int64_t>::max()), std::nullopt);
  EXPECT_EQ(dtype_bytes(DType::F32, -1), std::nullopt);
}

TEST(DType, NamesAndIds) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
    EXPECT_EQ(dtype_from_ggml(ggml_type_id(t)), t);
  }
  EXPECT_EQ(ggml_type_id(DType::BF16), 30u);
  EXPECT_EQ(ggml_type_id(DType::Q8_0), 8u);
  EXPECT_EQ(dtype_from_name("f64"), std::nullopt);
  EXPECT_STREQ(ggml_type_name(12), "q4_K");
  EXPECT_EQ(ggml_type_name(1000), nullptr);
}

}  // namespace
}  // namespace bricks::model
