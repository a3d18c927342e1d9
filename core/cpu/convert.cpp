#include "cpu/convert.h"

#include <string>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/convert_kernels.h"
#include "cpu/cpu_features.h"

namespace bricks::cpu {

float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    u = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    u = sign;
  } else {  // subnormal: normalise
    int e = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    u = sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t f32_to_f16_bits(float f) {
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

void f16_to_f32(const uint16_t* in, float* out, int64_t n) {
  switch (active_isa()) {
    case Isa::Avx512:
      return detail::f16_to_f32_avx512(in, out, n);
    case Isa::Avx2:
      return detail::f16_to_f32_avx2(in, out, n);
    case Isa::Scalar:
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = f16_bits_to_f32(in[i]);
}

void f32_to_f16(const float* in, uint16_t* out, int64_t n) {
  switch (active_isa()) {
    case Isa::Avx512:
      return detail::f32_to_f16_avx512(in, out, n);
    case Isa::Avx2:
      return detail::f32_to_f16_avx2(in, out, n);
    case Isa::Scalar:
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16_bits(in[i]);
}

void bf16_to_f32(const uint16_t* in, float* out, int64_t n) {
  switch (active_isa()) {
    case Isa::Avx512:
      return detail::bf16_to_f32_avx512(in, out, n);
    case Isa::Avx2:
      return detail::bf16_to_f32_avx2(in, out, n);
    case Isa::Scalar:
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_bits_to_f32(in[i]);
}

void f32_to_bf16(const float* in, uint16_t* out, int64_t n) {
  switch (active_isa()) {
    case Isa::Avx512:
      return detail::f32_to_bf16_avx512(in, out, n);
    case Isa::Avx2:
      return detail::f32_to_bf16_avx2(in, out, n);
    case Isa::Scalar:
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16_bits(in[i]);
}

void round_to_bf16(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = round_to_bf16(in[i]);
}

namespace {

void dequantize_unchecked(const WeightView& w, int64_t row, float* out) {
  const char* base = static_cast<const char*>(w.data) + row_bytes(w.type, w.cols) * row;
  switch (w.type) {
    case WeightType::F32:
      std::memcpy(out, base, sizeof(float) * w.cols);
      return;
    case WeightType::F16:
      return f16_to_f32(reinterpret_cast<const uint16_t*>(base), out, w.cols);
    case WeightType::BF16:
      return bf16_to_f32(reinterpret_cast<const uint16_t*>(base), out, w.cols);
    case WeightType::Q8_0:
      for (int64_t b = 0; b < w.cols / kQ8Block; ++b) {
        const unsigned char* blk = reinterpret_cast<const unsigned char*>(base) + b * kQ8BlockBytes;
        uint16_t d_bits;
        std::memcpy(&d_bits, blk, 2);
        const float d = f16_bits_to_f32(d_bits);
        const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
        for (int64_t j = 0; j < kQ8Block; ++j) out[b * kQ8Block + j] = d * q[j];
      }
      return;
  }
}

}  // namespace

void dequantize_row(const WeightView& w, int64_t row, float* out) {
  check_view(w, "dequantize_row");
  if (row < 0 || row >= w.rows) {
    throw Error::invalid("dequantize_row: row " + std::to_string(row) + " is outside [0, " +
                         std::to_string(w.rows) + ")");
  }
  dequantize_unchecked(w, row, out);
}

void dequantize_rows_bf16(const WeightView& w, int64_t row0, int64_t count, uint16_t* out) {
  if (w.type == WeightType::BF16) {
    std::memcpy(out, static_cast<const char*>(w.data) + row_bytes(w.type, w.cols) * row0,
                sizeof(uint16_t) * w.cols * count);
    return;
  }
  thread_local std::vector<float> row;
  row.resize(w.cols);
  for (int64_t r = 0; r < count; ++r) {
    dequantize_unchecked(w, row0 + r, row.data());
    f32_to_bf16(row.data(), out + r * w.cols, w.cols);
  }
}

void embed_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out) {
  check_view(table, "embed_rows");
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows) {
      throw Error::invalid("embed_rows: token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is outside the vocabulary [0, " +
                           std::to_string(table.rows) + ")");
    }
  }
  for (int64_t i = 0; i < n; ++i) dequantize_unchecked(table, ids[i], out + i * table.cols);
}

}  // namespace bricks::cpu
