// The lane layout (WeightLayout::Lanes): a q8_0, q4_K, q5_K or q6_K matrix from a model file,
// rewritten once at load into the same number of bytes so that the integer kernels read whole
// cache lines of weights and apply each scale once per unit of values rather than once per 4
// values.
//
// q8_0, q4_K and q5_K. A row of cols values (a multiple of kLaneGroupValues) is cols / 512
// "groups" of 16 units of 32 values: q8_0 blocks, or q4_K or q5_K sub-blocks (units 0-7 the
// sub-blocks of the group's first super-block, 8-15 of its second). Each group holds 8 chunks
// of 64 values, where dword lane l of chunk c holds values 4c .. 4c + 4 of unit lane_unit(l):
//   q8_0: 512 weight bytes, chunk c at byte 64c, each value stored as q + 128 (an unsigned
//         byte, as vpdpbusd takes it);
//   q4_K: 256 weight bytes; byte b of the 64 at 64p holds chunk 2p's value in its low nibble
//         and chunk 2p + 1's in its high one;
//   q5_K: 320 weight bytes: the low 4 bits of every value as q4_K's 256, then the fifth bits,
//         32 bytes per half h of the chunks: byte 256 + 32h + b holds in bit c the fifth bit
//         of the value at byte 32h + b of chunk c.
// Group g of row n has its weight bytes at w + (n * groups + g) * G, G = 512 (q8_0), 256
// (q4_K) or 320 (q5_K), and its kLaneGroupScales bytes of scales after all rows' weights, at
// w + rows * groups * G + (n * groups + g) * 32:
//   q8_0: the 16 blocks' f16 scales, in lane order;
//   q4_K, q5_K: per lane l, one byte with the low 4 bits of its unit's sc and, above them,
//         of its mn (bytes 0-15); the high 2 bits of the 16 sc as a little-endian word, lane l
//         at bits 2l (bytes 16-19), the same for mn (bytes 20-23); then the f16 d of the two
//         super-blocks, then their dmin (bytes 24-31).
//
// q6_K. A group is one super-block of 256 values, 16 units of 16 (unit u: values 16u .. 16u +
// 16, with the int8 scale sc[u]), in kQ6LaneWeights = 192 bytes: two halves h of 96 bytes,
// each 3 vectors of 32 bytes at 96h + 32i, where dword lane k (bytes 4k .. 4k + 4) belongs to
// unit q6_lane_unit(h, k). Byte j of that lane of vector i holds the unit's 6-bit value
// 4i + j in its low 6 bits, and bits 2i, 2i + 1 of its value 12 + j in its top 2. The scales
// of row n's group g, at w + rows * groups * 192 + (n * groups + g) * kQ6LaneScales, are the
// file's: the 16 sc in unit order, then the f16 d.
//
// A matrix so takes exactly its file's bytes, and every row's weights start on a cache line
// when the matrix does.
//
// One vpdpbusd per chunk then adds into each int32 lane a dot product of 4 values of one unit;
// after the 8 chunks every lane holds its whole unit's, and the unit's scales apply once
// (quant_dot_avx512_lanes.cpp). On AVX2 each 32-byte half of a chunk is 8 units' lanes, whose
// vpmaddubsw pair sums add up in int16 over the chunks before one vpmaddwd by the units'
// scales (quant_dot_ymm_q4k_lanes.inc for q4_K and q5_K, quant_dot_ymm_q6k_lanes.inc). The file's
// blocks mix units within a vector and, for q8_0, straddle cache lines.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/weights.h"

namespace bricks::cpu {

inline constexpr int64_t kLaneGroupValues = 512;  // values per group: 16 units of 32
inline constexpr int64_t kLaneGroupUnits = 16;
inline constexpr int64_t kLaneChunks = 8;        // chunks of 64 values per group
inline constexpr int64_t kLaneGroupScales = 32;  // bytes of scales per group
// Where the parts of a q4_K group's scales start.
inline constexpr int64_t kLaneScHigh = 16;
inline constexpr int64_t kLaneMnHigh = 20;
inline constexpr int64_t kLaneScaleHalves = 24;
// A q6_K group's bytes of weights and of scales.
inline constexpr int64_t kQ6LaneWeights = 192;
inline constexpr int64_t kQ6LaneScales = 18;

// The unit of a group whose values dword lane l of every chunk holds. This is the order in
// which the AVX512_VNNI many-row kernels transpose activations (quant_rows_avx512.h,
// unit_of_lane<8>), so both sides meet lane for lane.
constexpr int lane_unit(int l) { return 2 * (l % 8) + l / 8; }

// The q6_K unit of dword lane k (0..7) of half h of a group. Lanes 0-3 of a half are units
// 4h .. 4h + 4, lanes 4-7 units 8 + 4h .. 12 + 4h: the order in which vpunpcklwd and
// vpunpckhwd of the 16 scales as words put each unit's scale twice (quant_dot_ymm_q6k_lanes.inc).
constexpr int q6_lane_unit(int h, int k) { return k < 4 ? 4 * h + k : 8 + 4 * h + (k - 4); }

// Values per group of a matrix of `t` in the lane layout: one q6_K super-block, else 512.
constexpr int64_t lanes_group_values(WeightType t) {
  return t == WeightType::Q6_K ? 256 : kLaneGroupValues;
}

// Bytes of weights (without the scales) per row of `cols` values of `t` in the lane layout.
constexpr int64_t lanes_row_weights(WeightType t, int64_t cols) {
  switch (t) {
    case WeightType::Q4_K:
      return cols / 2;
    case WeightType::Q5_K:
      return cols / 8 * 5;
    case WeightType::Q6_K:
      return cols / 4 * 3;
    default:
      return cols;
  }
}

// Whether a Linear over `t` weights of `cols` columns in `compute` runs on the lane layout on
// this CPU: cols a multiple of lanes_group_values(t), f32 compute (bf16 compute sends many rows
// to oneDNN, which reads the file's layout), and q8_0 or q4_K with the AVX512_VNNI integer
// kernels, or q4_K, q5_K or q6_K with the plain AVX2 ones (quant_dot_ymm_q4k_lanes.inc,
// quant_dot_ymm_q6k_lanes.inc). The AVX-VNNI family has no lane kernels.
bool lanes_layout_fits(WeightType t, int64_t cols, Compute compute);

// Writes the matrix `w` (q8_0, q4_K, q5_K or q6_K in the file's layout, cols a multiple of
// lanes_group_values(w.type)) in the lane layout to out[0 .. w.rows * row_bytes(w.type, w.cols)).
// Throws bricks::Error (invalid argument) for any other type or width.
void pack_lanes(const WeightView& w, char* out);

}  // namespace bricks::cpu
