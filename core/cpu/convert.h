// Number format conversions, row dequantisation and embedding gathers.
//
// f16 is IEEE binary16; bf16 is the top half of an f32. f32 -> f16/bf16 rounds to nearest
// even; NaN stays NaN, values beyond the f16 range become infinity. Array versions use
// AVX2/F16C or AVX-512 where the CPU has them (see cpu_features.h) and give the same bits
// as the scalar versions.
#pragma once

#include <cstdint>
#include <cstring>

#include "cpu/weights.h"

namespace bricks::cpu {

float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_f16_bits(float f);

inline float bf16_bits_to_f32(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// The f32 value nearest to f that a bf16 can hold.
inline float round_to_bf16(float f) { return bf16_bits_to_f32(f32_to_bf16_bits(f)); }

void f16_to_f32(const uint16_t* in, float* out, int64_t n);
void f32_to_f16(const float* in, uint16_t* out, int64_t n);
void bf16_to_f32(const uint16_t* in, float* out, int64_t n);
void f32_to_bf16(const float* in, uint16_t* out, int64_t n);
// f16 to bf16 in one pass: the bf16 nearest to each value (as f16_to_f32, then f32_to_bf16).
void f16_to_bf16(const uint16_t* in, uint16_t* out, int64_t n);

// Rounds n values to bf16 precision, keeping them as f32 (in == out allowed).
void round_to_bf16(const float* in, float* out, int64_t n);

// Writes row `row` of `w` as w.cols floats. Throws bricks::Error on a bad view, a row
// outside [0, w.rows) or the lane layout (weight_lanes.h).
void dequantize_row(const WeightView& w, int64_t row, float* out);

// Dequantises rows [row0, row0 + count) of `w` as bf16 bits (for bf16 GEMM operands).
void dequantize_rows_bf16(const WeightView& w, int64_t row0, int64_t count, uint16_t* out);

// Gathers rows ids[0..n) of `table` into out[n][table.cols] as f32. Throws bricks::Error
// naming the position of the first id outside [0, table.rows).
void embed_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out);

}  // namespace bricks::cpu
