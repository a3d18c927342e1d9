// Portable integer GEMV: the unpackers every SIMD unpacker must agree with, and the scalar
// kernel (the dispatch floor).
#include <algorithm>
#include <cstring>

#include "cpu/convert.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu::detail {
namespace {

using model::kQK;
using model::kQKK;

template <class B>
B load_block(const char* row, int64_t b) {
  B blk;
  std::memcpy(&blk, row + b * static_cast<int64_t>(sizeof(B)), sizeof(B));
  return blk;
}

// Scales of the `groups` groups starting at group g.
void put_groups(UnpackedRow out, int64_t g, int64_t groups, float a, float b) {
  std::fill(out.a + g, out.a + g + groups, a);
  std::fill(out.b + g, out.b + g + groups, b);
}

void zero_padding(int64_t cols, int64_t group, UnpackedRow out) {
  const int64_t padded = quant_padded(cols);
  std::fill(out.u + cols, out.u + padded, uint8_t{0});
  put_groups(out, cols / group, (padded - cols) / group, 0.0f, 0.0f);
}

// q4_0, q4_1, q5_0, q5_1: B has a `qh` for 5 bits and an `m` for a min.
template <class B>
void unpack_legacy(const char* row, int64_t cols, UnpackedRow out) {
  constexpr bool kFive = requires(B b) { b.qh; };
  constexpr bool kMin = requires(B b) { b.m; };
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const B blk = load_block<B>(row, b);
    uint32_t qh = 0;
    if constexpr (kFive) std::memcpy(&qh, blk.qh, 4);
    uint8_t* u = out.u + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      u[j] = static_cast<uint8_t>((blk.qs[j] & 15) | ((qh >> j) & 1) << 4);
      u[j + kQK / 2] = static_cast<uint8_t>((blk.qs[j] >> 4) | ((qh >> (j + kQK / 2)) & 1) << 4);
    }
    const float d = f16_bits_to_f32(blk.d);
    float min = -(kFive ? 16.0f : 8.0f) * d;
    if constexpr (kMin) min = f16_bits_to_f32(blk.m);
    put_groups(out, b, 1, d, min);
  }
  zero_padding(cols, kQK, out);
}

void unpack_q8_0(const char* row, int64_t cols, UnpackedRow out) {
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const auto blk = load_block<model::BlockQ8_0>(row, b);
    for (int j = 0; j < kQK; ++j) out.u[b * kQK + j] = static_cast<uint8_t>(blk.qs[j] + 128);
    const float d = f16_bits_to_f32(blk.d);
    put_groups(out, b, 1, d, -128.0f * d);
  }
  zero_padding(cols, kQK, out);
}

// q4_K and q5_K.
template <class B>
void unpack_k4(const char* row, int64_t cols, UnpackedRow out) {
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const B blk = load_block<B>(row, b);
    float a[8], mins[8];
    k4_sub_scales(blk.scales, f16_bits_to_f32(blk.d), f16_bits_to_f32(blk.dmin), a, mins);
    model::k4_values(blk, out.u + b * kQKK);
    for (int s = 0; s < 8; ++s) put_groups(out, 8 * b + s, 1, a[s], mins[s]);
  }
  zero_padding(cols, 32, out);
}

void unpack_q6_k(const char* row, int64_t cols, UnpackedRow out) {
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const auto blk = load_block<model::BlockQ6_K>(row, b);
    model::q6k_values(blk, out.u + b * kQKK);
    const float d = f16_bits_to_f32(blk.d);
    for (int s = 0; s < 16; ++s) {
      const float a = d * static_cast<float>(blk.scales[s]);
      put_groups(out, 16 * b + s, 1, a, -32.0f * a);
    }
  }
  zero_padding(cols, 16, out);
}

// One weight row at a time against every activation row, eight partial sums per output.
void gemv_rows(const QuantGemvArgs& a, int64_t n0, int64_t n1, UnpackFn unpack, int64_t group) {
  thread_local UnpackBuffer buf;
  const QuantizedActivations& x = *a.x;
  const UnpackedRow w = buf.rows(x.padded)[0];
  const int64_t lanes = a.cols / kQuantLane, lane_stride = x.padded / kQuantLane;
  for (int64_t n = n0; n < n1; ++n) {
    unpack(a.w + n * a.row_bytes, a.cols, w);
    for (int64_t i = 0; i < a.m; ++i) {
      const int8_t* q = x.q.data() + (a.i0 + i) * x.padded;
      const float* d = x.d.data() + (a.i0 + i) * lane_stride;
      const float* s = x.s.data() + (a.i0 + i) * lane_stride;
      float acc[8] = {};
      for (int64_t l = 0; l < lanes; ++l) {
        int32_t dot = 0;
        for (int j = 0; j < kQuantLane; ++j) {
          dot += static_cast<int32_t>(w.u[4 * l + j]) * q[4 * l + j];
        }
        const int64_t g = l * kQuantLane / group;
        acc[l % 8] += w.a[g] * (d[l] * static_cast<float>(dot)) + w.b[g] * s[l];
      }
      a.y[i * a.ldy + n] =
          ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
  }
}

template <WeightType T>
void gemv_scalar(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  gemv_rows(a, n0, n1, unpack_portable(T), quant_group(T));
}

}  // namespace

UnpackFn unpack_portable(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return unpack_q8_0;
    case WeightType::Q4_0:
      return unpack_legacy<model::BlockQ4_0>;
    case WeightType::Q4_1:
      return unpack_legacy<model::BlockQ4_1>;
    case WeightType::Q5_0:
      return unpack_legacy<model::BlockQ5_0>;
    case WeightType::Q5_1:
      return unpack_legacy<model::BlockQ5_1>;
    case WeightType::Q4_K:
      return unpack_k4<model::BlockQ4_K>;
    case WeightType::Q5_K:
      return unpack_k4<model::BlockQ5_K>;
    case WeightType::Q6_K:
      return unpack_q6_k;
    case WeightType::F32:
    case WeightType::F16:
    case WeightType::BF16:
      break;
  }
  return nullptr;
}

QuantGemvFn quant_gemv_scalar(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return gemv_scalar<WeightType::Q8_0>;
    case WeightType::Q4_0:
      return gemv_scalar<WeightType::Q4_0>;
    case WeightType::Q4_1:
      return gemv_scalar<WeightType::Q4_1>;
    case WeightType::Q5_0:
      return gemv_scalar<WeightType::Q5_0>;
    case WeightType::Q5_1:
      return gemv_scalar<WeightType::Q5_1>;
    case WeightType::Q4_K:
      return gemv_scalar<WeightType::Q4_K>;
    case WeightType::Q5_K:
      return gemv_scalar<WeightType::Q5_K>;
    case WeightType::Q6_K:
      return gemv_scalar<WeightType::Q6_K>;
    case WeightType::F32:
    case WeightType::F16:
    case WeightType::BF16:
      break;
  }
  return nullptr;
}

}  // namespace bricks::cpu::detail
