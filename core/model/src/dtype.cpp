#include "bricks/model/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "bricks/half.hpp"
#include "bricks/model/quant_blocks.h"

namespace bricks::model {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::Q8_0: return "q8_0";
    case DType::Q4_0:
      return "q4_0";
    case DType::Q4_1:
      return "q4_1";
    case DType::Q5_0:
      return "q5_0";
    case DType::Q5_1:
      return "q5_1";
    case DType::Q4_K:
      return "q4_k";
    case DType::Q5_K:
      return "q5_k";
    case DType::Q6_K:
      return "q6_k";
  }
  return "?";
}

std::string supported_dtypes() {
  std::string s;
  for (DType t : kAllDTypes) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t));
  return s;
}

std::optional<DType> dtype_from_name(const char* name) {
  std::string_view n = name ? name : "";
  for (DType t : kAllDTypes) {
    if (n == dtype_name(t)) return t;
  }
  return std::nullopt;
}

uint32_t ggml_type_id(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::BF16: return 30;
    case DType::Q8_0: return 8;
    case DType::Q4_0:
      return 2;
    case DType::Q4_1:
      return 3;
    case DType::Q5_0:
      return 6;
    case DType::Q5_1:
      return 7;
    case DType::Q4_K:
      return 12;
    case DType::Q5_K:
      return 13;
    case DType::Q6_K:
      return 14;
  }
  return 0;
}

std::optional<DType> dtype_from_ggml(uint32_t id) {
  for (DType t : kAllDTypes) {
    if (ggml_type_id(t) == id) return t;
  }
  return std::nullopt;
}

BlockShape dtype_block(DType t) {
  switch (t) {
    case DType::F32:
      return {1, 4};
    case DType::F16:
    case DType::BF16:
      return {1, 2};
    case DType::Q8_0:
      return {kQK, sizeof(BlockQ8_0)};
    case DType::Q4_0:
      return {kQK, sizeof(BlockQ4_0)};
    case DType::Q4_1:
      return {kQK, sizeof(BlockQ4_1)};
    case DType::Q5_0:
      return {kQK, sizeof(BlockQ5_0)};
    case DType::Q5_1:
      return {kQK, sizeof(BlockQ5_1)};
    case DType::Q4_K:
      return {kQKK, sizeof(BlockQ4_K)};
    case DType::Q5_K:
      return {kQKK, sizeof(BlockQ5_K)};
    case DType::Q6_K:
      return {kQKK, sizeof(BlockQ6_K)};
  }
  return {1, 0};
}

const char* ggml_type_name(uint32_t id) {
  // ggml's type enum; ids 4, 5 and 31..33 were retired and are not valid in files.
  static constexpr const char* kNames[] = {
      "f32",  "f16",   "q4_0", "q4_1", nullptr, nullptr, "q5_0", "q5_1", "q8_0", "q8_1",
      "q2_K", "q3_K",  "q4_K", "q5_K", "q6_K",  "q8_K",  "iq2_xxs", "iq2_xs", "iq3_xxs",
      "iq1_s", "iq4_nl", "iq3_s", "iq2_s", "iq4_xs", "i8", "i16", "i32", "i64", "f64",
      "iq1_m", "bf16", nullptr, nullptr, nullptr, "tq1_0", "tq2_0", nullptr, nullptr, "mxfp4"};
  return id < std::size(kNames) ? kNames[id] : nullptr;
}

std::optional<size_t> dtype_bytes(DType t, int64_t numel) {
  if (numel < 0) return std::nullopt;
  const BlockShape b = dtype_block(t);
  if (numel % b.values != 0) return std::nullopt;
  const auto blocks = static_cast<size_t>(numel / b.values);
  if (blocks > std::numeric_limits<size_t>::max() / b.bytes) return std::nullopt;
  return blocks * b.bytes;
}

float f16_to_f32(uint16_t h) { return bricks::f16_to_f32(h); }

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN: quiet, keep the top payload bits (as F16C does)
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past max
  if (abs >= 0x38800000u) {                                              // normal f16
    const uint32_t r = abs + 0xfffu + ((abs >> 13) & 1u) - (112u << 23);
    return static_cast<uint16_t>(sign | (r >> 13));
  }
  if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
  // Subnormal f16: shift the full mantissa into place with round to nearest even.
  const uint32_t e = abs >> 23;
  const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

float bf16_to_f32(uint16_t h) { return bricks::bf16_to_f32(h); }

uint16_t f32_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

void quantize_q8_0(std::span<const float> src, std::span<std::byte> dst) {
  const size_t blocks = src.size() / kQ8_0Block;
  for (size_t b = 0; b < blocks; ++b) {
    const float* x = src.data() + b * kQ8_0Block;
    std::byte* out = dst.data() + b * kQ8_0BlockBytes;
    float amax = 0.f;
    for (int i = 0; i < kQ8_0Block; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.f;
    const float inv = d != 0.f ? 1.f / d : 0.f;
    const uint16_t dh = f32_to_f16(d);
    std::memcpy(out, &dh, 2);
    for (int i = 0; i < kQ8_0Block; ++i) {
      // Halves round away from zero, as llama.cpp's roundf does, for the same bytes.
      const float v = std::round(std::clamp(x[i] * inv, -127.f, 127.f));
      out[2 + i] = static_cast<std::byte>(static_cast<int8_t>(v));
    }
  }
}

void to_f32(DType t, const void* src, std::span<float> dst) {
  if (dtype_is_quantized(t)) return dequantize_blocks(t, src, dst);
  if (t == DType::F32) {
    std::memcpy(dst.data(), src, dst.size() * 4);
    return;
  }
  const auto* p = static_cast<const unsigned char*>(src);
  for (size_t i = 0; i < dst.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    dst[i] = t == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
}

void from_f32(DType t, std::span<const float> src, std::span<std::byte> dst) {
  if (dtype_is_quantized(t)) return quantize_blocks(t, src, dst);
  if (t == DType::F32) {
    std::memcpy(dst.data(), src.data(), src.size() * 4);
    return;
  }
  for (size_t i = 0; i < src.size(); ++i) {
    const uint16_t h = t == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
    std::memcpy(dst.data() + 2 * i, &h, 2);
  }
}

}  // namespace bricks::model
