// The lane layout of q8_0 matrices (WeightLayout::Lanes): the bytes of a file's q8_0 matrix
// rewritten once at load so that the AVX512_VNNI kernels read whole cache lines of weights
// and apply each scale once per block rather than once per 4 values.
//
// A row of cols values (a multiple of kLaneGroupValues) is cols / 512 "groups" of 16 blocks.
// Group g of row n has 512 weight bytes at w + (n * groups + g) * 512: 8 chunks of 64 bytes,
// where dword l of chunk c holds values 4c .. 4c + 4 of block lane_block(l) of the group, each
// stored as q + 128 (an unsigned byte, as vpdpbusd takes it). The blocks' f16 scales follow
// all rows' weight bytes, in the same lane order: group g of row n has its 16 at
// w + rows * groups * 512 + (n * groups + g) * 32. A matrix so takes exactly its file's bytes,
// and every row's weights start on a cache line when the matrix does.
//
// One vpdpbusd per chunk then adds into each int32 lane a dot product of 4 values of one
// block; after the 8 chunks every lane holds its whole block's, and the block's two scales
// apply once (quant_dot_avx512_lanes.cpp). The file's 34-byte blocks straddle cache lines and
// take a scale conversion and multiply-add per 4 values.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/weights.h"

namespace bricks::cpu {

inline constexpr int64_t kLaneGroupValues = 512;  // values per group: 16 blocks of 32
inline constexpr int64_t kLaneGroupBlocks = 16;
inline constexpr int64_t kLaneChunks = 8;  // 64-byte chunks of weights per group

// The block of a group whose values dword lane l of every chunk holds. This is the order in
// which the AVX512_VNNI many-row kernels transpose activations (quant_rows_avx512.h,
// unit_of_lane<8>), so both sides meet lane for lane.
constexpr int lane_block(int l) { return 2 * (l % 8) + l / 8; }

// Whether a Linear over `t` weights of `cols` columns in `compute` runs on the lane layout on
// this CPU: q8_0, cols a multiple of kLaneGroupValues, f32 compute (bf16 compute sends many
// rows to oneDNN, which reads the file's layout), and the AVX512_VNNI integer kernels.
bool lanes_layout_fits(WeightType t, int64_t cols, Compute compute);

// Writes the matrix `w` (q8_0 in the file's layout, cols a multiple of kLaneGroupValues) in
// the lane layout to out[0 .. w.rows * row_bytes(Q8_0, w.cols)). Throws bricks::Error
// (invalid argument) for any other type or width.
void pack_lanes(const WeightView& w, char* out);

}  // namespace bricks::cpu
