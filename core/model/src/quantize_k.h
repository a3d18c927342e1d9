// Block encoders shared inside bricks_model: quantize.cpp dispatches to the k-quant encoders
// of quantize_k.cpp, and both round as llama.cpp's reference quantizer rounds.
#pragma once

#include <cstdint>
#include <cstring>

#include "bricks/model/quant_blocks.h"

namespace bricks::model::quant {

// x rounded to the nearest integer, ties to even (the rounding of llama.cpp's nearest_int).
// Magnitudes past 2^22 and NaN saturate at +-(2^22 - 1), so a caller that clamps the result
// to its code range never meets undefined behaviour on damaged input.
inline int nearest_int(float x) {
  constexpr float kLimit = 4194303.f;  // 2^22 - 1
  if (!(x >= -kLimit && x <= kLimit)) x = x > 0.f ? kLimit : -kLimit;
  // Adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
  const float shifted = x + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// The super-block of the 256 values at `x`.
BlockQ4_K encode_q4_k(const float* x);
BlockQ5_K encode_q5_k(const float* x);
BlockQ6_K encode_q6_k(const float* x);

}  // namespace bricks::model::quant
