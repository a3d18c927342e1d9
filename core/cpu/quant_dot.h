// Internal to bricks_cpu: integer dot-product GEMV for the quantized weight types (q8_0, q4_0,
// q4_1, q5_0, q5_1, q4_K, q5_K, q6_K), as llama.cpp computes them.
//
// Activations: each forward quantizes its m activation rows once (quantize_activations) to
// blocks of 32 int8 values q with an f32 scale d = max|x| / 127, so x ~ d * q. Blocks of 32
// serve every weight type and family but one: the plain AVX2 family's k-quant kernels take
// the rows quantized a second time with one scale per 256-value super-block (llama.cpp's
// q8_K; QuantizedActivations::q8k), so that a super-block's integer dot products, each
// already times its group's integer scale, add up in int32 before one float step
// (quant_dot_ymm_q8k.inc). That family has no vpdpbusd and ran those types below the read
// rate of a core; the others keep the finer blocks of 32.
//
// Weights: a kernel unpacks R weight rows at a time into bytes u and two f32 per group of
// 32 values (16 for q6_K) a, b, so that every weight is w = a * u + b over its group:
//   q4_0 a = d, b = -8d;  q5_0 a = d, b = -16d;  q4_1, q5_1 a = d, b = m
//   q8_0 u = q + 128, a = d, b = -128d
//   q4_K, q5_K a = d * sc, b = -dmin * mn of the sub-block;  q6_K a = d * sc, b = -32 d * sc
// Four weights of a group ("a lane") against four activations are then
//   sum (a u + b) d q = a * (d * dot4(u, q)) + b * s,   s = d * sum4(q)
// where dot4 is one int32 lane of vpdpbusd / vpmaddubsw+vpmaddwd, and d and s come with the
// quantized activations, one pair per lane. The unpacked rows are then reused by every
// activation row of the call: each weight byte is read from memory once per forward (per
// pass of activation rows, see linear.cpp). For up to 4 activation rows the AVX512_VNNI
// kernels of q8_0, q4_0 and the k-quants skip the unpacked rows and decode u, a and b in
// registers right before the dot products (quant_dot_avx512.cpp); the k-quant ones take the
// activation's block scales and sums per 256-value super-block (QuantizedActivations::k), so
// that a and b are applied once per group rather than once per lane. The ymm families (AVX2,
// AVX-VNNI) do the same for those types at every row count, 4 activation rows at a time over
// panels of 16 weight rows (quant_dot_ymm_direct.inc), as the AVX512_VNNI ones of q4_K and
// q5_K do up to 8 rows; the unpacked rows remain for q4_1, q5_0 and q5_1. For more rows the
// AVX512_VNNI kernels of q8_0, q4_0 and the k-quants transpose R weight rows and the
// activation rows so that each int32 lane sums one whole block or group, and apply the
// scales once per group of 32 or 16 values (quant_rows_avx512.h; quant_dot_avx512_rows.cpp
// for the k-quants, quant_dot_avx512_rows_q8.cpp for q8_0 and q4_0), and from 8 rows the plain
// AVX2 family's of q4_K, q5_K and q8_0 transpose 8 weight rows the same way
// (quant_dot_ymm_q8k_rows.inc, quant_dot_ymm_q8_rows.inc). q8_0 and q4_K weights repacked at
// load into that transposed order (the lane layout, weight_lanes.h) take one AVX512_VNNI
// kernel for every row count (quant_dot_avx512_lanes.cpp), and q4_K ones the plain AVX2
// family's lane kernels (quant_dot_ymm_q4k_lanes.inc).
//
// Rows are padded to a multiple of kQuantPad values with zero bytes and scales, so a vector
// kernel may run past the last block; padding contributes 0 * finite = 0.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bricks/model/quant_blocks.h"
#include "cpu/cpu_features.h"
#include "cpu/weights.h"

namespace bricks::cpu::detail {

inline constexpr int64_t kQuantBlock = 32;  // activation values per scale
inline constexpr int64_t kQuantPad = 64;    // rows are padded to this many values
inline constexpr int64_t kQuantLane = 4;    // values per int32 dot lane and per d, s pair

inline int64_t quant_padded(int64_t cols) { return (cols + kQuantPad - 1) / kQuantPad * kQuantPad; }

// Weight rows ahead of each of a register tile's rows that its prefetches ask for: R, the
// next tile's, when the tile's R rows are adjacent, else kAheadRows. At one activation row the
// register kernels take rows spaced half a thread's range apart, so that each half is read in
// address order (register_rows in quant_dot_avx512.cpp, yregister_rows in
// quant_dot_ymm_direct.inc).
inline constexpr int64_t kAheadRows = 4;
constexpr int64_t ahead_rows(int r, int64_t spacing) { return spacing == 1 ? r : kAheadRows; }

// Where request k of row r of an R-row register tile asks, when each of its rows asks for
// `step` bytes per request, `ahead` bytes (ahead_rows() rows) past rows[r]. Rows apart: row
// r's own bytes, so each row is asked for in address order. Adjacent rows (spacing 1): the
// next tile's R rows are one span of memory, asked for in address order too, request k of row
// r taking its (k R + r)-th `step` bytes. Asking for the same bytes of each row instead makes R
// streams a row apart, which memory serves slower: on a Zen 3 EPYC, 4 streams 1152 bytes apart
// (q4_K rows of 2048 values) read 18.6 GB/s on 2 threads against 24.8-25.2 in address order
// (23.7-27.4 for a plain sequential read), and the same kernels' q4_K decode projections went
// from 14.3 to 19.7 GB/s (DecodeLayers, docs/benchmarks.md).
inline const char* ahead_request(const char* const* rows, int R, int64_t spacing, int64_t ahead,
                                 int64_t k, int r, int64_t step) {
  return spacing == 1 ? rows[0] + ahead + (k * R + r) * step : rows[r] + ahead + k * step;
}

// The weight rows [n0, n1) of a register kernel as tiles, tile.template operator()<Rows>(n,
// spacing) each: with kHalves (one activation row), first tiles of 2 rows spaced half the range
// apart, so that each half is read in address order; then R adjacent rows at a time, then one.
template <int R, bool kHalves, class Tile>
inline void register_tiles(int64_t n0, int64_t n1, const Tile& tile) {
  int64_t n = n0;
  if constexpr (kHalves) {
    const int64_t half = (n1 - n0) / 2;
    for (int64_t i = 0; i < half; ++i) tile.template operator()<2>(n0 + i, half);
    n = n0 + 2 * half;
  }
  for (; n + R <= n1; n += R) tile.template operator()<R>(n, 1);
  for (; n < n1; ++n) tile.template operator()<1>(n, 1);
}

// Activation rows [0, m) as tiles of at most 4 rows, as few as can hold them and no two
// differing by more than one row: tile.template operator()<Rows>(i) for each, i its first row.
template <class Tile>
inline void even_row_tiles(int64_t m, const Tile& tile) {
  const int64_t tiles = (m + 3) / 4;
  for (int64_t t = 0, i = 0; t < tiles; ++t) {
    const int64_t rows = m / tiles + (t < m % tiles ? 1 : 0);
    switch (rows) {
      case 1:
        tile.template operator()<1>(i);
        break;
      case 2:
        tile.template operator()<2>(i);
        break;
      case 3:
        tile.template operator()<3>(i);
        break;
      default:
        tile.template operator()<4>(i);
        break;
    }
    i += rows;
  }
}

// Values per weight scale pair (a, b) of an unpacked row of type t.
constexpr int64_t quant_group(WeightType t) { return t == WeightType::Q6_K ? 16 : 32; }

// Floats of QuantizedActivations::k per 256-value super-block, and where each part starts.
inline constexpr int64_t kSuperFloats = 48;
inline constexpr int64_t kSuperD32 = 0;   // d of the 8 blocks of 32
inline constexpr int64_t kSuperS32 = 8;   // d * (sum of the block's 32 q), per block
inline constexpr int64_t kSuperD16 = 16;  // d of each of the 16 groups of 16 (its block's)
inline constexpr int64_t kSuperS16 = 32;  // d * (sum of the group's 16 q), per group

// m activation rows quantized to 8 bits; row i of each array starts at i * padded (q),
// i * padded / kQuantLane (d, s) or i * super_stride (k).
struct QuantizedActivations {
  int64_t m = 0, cols = 0, padded = 0;
  std::vector<int8_t> q;
  std::vector<float> d;  // the block scale, repeated for each lane of the block
  std::vector<float> s;  // d * (sum of the lane's 4 q)
  // Per super-block of 256 values (cols / 256 of them per row), the scales and sums that the
  // k-quant kernels apply once per super-block: kSuperFloats floats laid out as above.
  std::vector<float> k;
  int64_t super_stride = 0;
  // Filled only when quantize_activations is asked for them (quant_uses_q8k): the rows
  // quantized with one scale per super-block of 256 values, row i at i * cols (q8k),
  // i * cols / 256 (d8k) and i * cols / 16 (s8k).
  bool has_q8k = false;
  std::vector<int8_t> q8k;
  std::vector<float> d8k;    // the super-block's scale (quantize_super_row_portable)
  std::vector<int16_t> s8k;  // the sum of each 16 consecutive q8k values
};

// Which forms quantize_activations writes: the blocks of 32 (q, d, s, k), the super-block
// form (q8k, d8k, s8k; cols then a multiple of 256), or both. A kernel that reads only the
// super-block form is not given the blocks of 32, which would be quantized for nothing.
enum class ActivationForms { Blocks, SuperBlocks, Both };

// Quantizes x [m][cols] (cols a multiple of kQuantBlock) into `out`, reusing its storage; m,
// cols and padded are set whatever the forms. Blocks of 32: q = round(x / d) with
// d = max|x| / 127 per block; a block holding NaN or infinity gets d = NaN, so the results
// it feeds are NaN as in the float kernels. Super-blocks: quantize_super_row_portable.
void quantize_activations(const float* x, int64_t m, int64_t cols, QuantizedActivations& out,
                          ActivationForms forms = ActivationForms::Blocks);

// One row of cols values (a multiple of kQuantBlock): its bytes q [cols], and d and s
// [cols / kQuantLane]. The SIMD versions (quantize_simd.cpp) give the portable one's bytes
// and floats; quantize_activations takes the one of the dispatch level.
using QuantizeRowFn = void (*)(const float* x, int64_t cols, int8_t* q, float* d, float* s);
void quantize_row_portable(const float* x, int64_t cols, int8_t* q, float* d, float* s);
void quantize_row_avx2(const float* x, int64_t cols, int8_t* q, float* d, float* s);
void quantize_row_avx512(const float* x, int64_t cols, int8_t* q, float* d, float* s);

// One row of cols values (a multiple of 256) in the super-block form, by llama.cpp's rule for
// q8_K: the value of largest magnitude, max (the first of equals), maps to -128, every value
// to q = round(x * (-128 / max)) to nearest even, at most 127, and d = 1 / (-128 / max); a
// super-block whose -128 / max is not finite (zero, or too small) has q = 0 and d = 0, one
// holding NaN or infinity d = NaN. q [cols], d [cols / 256], s [cols / 16]. The AVX2
// version gives the portable one's bytes and floats.
using QuantizeSuperRowFn = void (*)(const float* x, int64_t cols, int8_t* q, float* d, int16_t* s);
void quantize_super_row_portable(const float* x, int64_t cols, int8_t* q, float* d, int16_t* s);
void quantize_super_row_avx2(const float* x, int64_t cols, int8_t* q, float* d, int16_t* s);

// One unpacked weight row (see above): u [padded], a and b [padded / group]. The arrays of
// a and b may be read up to kGroupSlack floats past their end.
inline constexpr int64_t kGroupSlack = 16;
struct UnpackedRow {
  uint8_t* u;
  float* a;
  float* b;
};

// Writes row `row` (cols values of the kernel's type) as an UnpackedRow, padding included.
using UnpackFn = void (*)(const char* row, int64_t cols, UnpackedRow out);

// Storage for up to kRows unpacked rows of `padded` values; one per thread and kernel family.
class UnpackBuffer {
 public:
  static constexpr int kRows = 4;
  std::array<UnpackedRow, kRows> rows(int64_t padded) {
    // a and b per group of the smallest size, 16 (q6_K on the portable kernels).
    const size_t lanes = static_cast<size_t>(padded / 16 + kGroupSlack);
    if (u_.size() < kRows * static_cast<size_t>(padded)) {
      u_.resize(kRows * static_cast<size_t>(padded));
      a_.resize(kRows * lanes);
      b_.resize(kRows * lanes);
    }
    std::array<UnpackedRow, kRows> out;
    for (int r = 0; r < kRows; ++r) {
      out[r] = {u_.data() + r * padded, a_.data() + r * lanes, b_.data() + r * lanes};
    }
    return out;
  }

 private:
  std::vector<uint8_t> u_;
  std::vector<float> a_, b_;
};

struct QuantGemvArgs {
  const char* w = nullptr;  // weight row n starts at w + n * row_bytes
  size_t row_bytes = 0;
  int64_t cols = 0;
  const QuantizedActivations* x = nullptr;
  int64_t i0 = 0;      // first activation row of this call
  int64_t m = 0;       // activation rows i0 .. i0 + m
  float* y = nullptr;  // y[i * ldy + n] for activation row i0 + i
  int64_t ldy = 0;
  // Weights in the lane layout (weight_lanes.h): where the scales start; w is then where the
  // weight bytes start, and row_bytes still counts both per row.
  const char* scales = nullptr;
};

// Computes y for the weight rows [n0, n1) and all m activation rows.
using QuantGemvFn = void (*)(const QuantGemvArgs& a, int64_t n0, int64_t n1);

// `kernel` over the activation rows of `a` in groups of at most `rows`, one panel of `panel`
// weight rows of [n0, n1) at a time: a panel's rows come from memory for the first group and
// from cache for the others.
inline void over_row_groups(const QuantGemvArgs& a, int64_t n0, int64_t n1, int64_t panel,
                            int64_t rows, QuantGemvFn kernel) {
  for (int64_t n = n0; n < n1; n += panel) {
    for (int64_t i = 0; i < a.m; i += rows) {
      QuantGemvArgs group = a;
      group.i0 = a.i0 + i;
      group.m = std::min(rows, a.m - i);
      group.y = a.y + i * a.ldy;
      kernel(group, n, std::min(n + panel, n1));
    }
  }
}

// The kernel families, each a dot-product instruction.
enum class QuantIsa {
  Scalar,      // portable C++
  Avx2,        // vpmaddubsw + vpmaddwd on ymm
  AvxVnni,     // vpdpbusd on ymm (AVX-VNNI)
  Avx512Vnni,  // vpdpbusd on zmm (AVX512_VNNI)
};

const char* to_string(QuantIsa isa);  // "scalar", "avx2", "avx-vnni", "avx512-vnni"
bool quant_isa_supported(QuantIsa isa);
// The best family at or below the dispatch level `isa`.
QuantIsa quant_isa_for(Isa isa);
// The kernel of family `isa` (which the CPU must support) for the quantized type `t`.
QuantGemvFn quant_gemv_kernel(QuantIsa isa, WeightType t);
// Whether that kernel reads the super-block form (QuantizedActivations::q8k) besides the
// blocks of 32: the k-quants in the plain AVX2 family.
bool quant_uses_q8k(QuantIsa isa, WeightType t);

// Per-family tables (quant_dot_<family>.cpp); nullptr for a type that is not quantized.
QuantGemvFn quant_gemv_scalar(WeightType t);
QuantGemvFn quant_gemv_avx2(WeightType t);
QuantGemvFn quant_gemv_avx_vnni(WeightType t);
QuantGemvFn quant_gemv_avx512_vnni(WeightType t);
// The AVX512_VNNI k-quant kernels for more than a few activation rows
// (quant_dot_avx512_rows.cpp); nullptr for other types.
QuantGemvFn quant_rows_avx512_vnni(WeightType t);
// The same for q8_0 and q4_0 (quant_dot_avx512_rows_q8.cpp); nullptr for other types.
QuantGemvFn quant_rows_q8_avx512_vnni(WeightType t);

// The kernels on weights in the lane layout: AVX512_VNNI for q8_0 and q4_K
// (quant_dot_avx512_lanes.cpp), plain AVX2 for q4_K, on activations in the super-block form
// (quant_dot_ymm_q4k_lanes.inc); nullptr for other types.
QuantGemvFn quant_lanes_avx512_vnni(WeightType t);
QuantGemvFn quant_lanes_avx2(WeightType t);

// Unpackers: portable (every quantized type, for the scalar family), and AVX2 for q4_1, q5_0
// and q5_1, the types the SIMD families keep unpacking (nullptr for the others).
UnpackFn unpack_portable(WeightType t);
UnpackFn unpack_avx2(WeightType t);

// Scale and min of the 8 sub-blocks of a q4_K / q5_K super-block as group scales:
// a[j] = d * sc_j, b[j] = -dmin * mn_j.
inline void k4_sub_scales(const uint8_t scales[12], float d, float dmin, float a[8], float b[8]) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0, mn = 0;
    model::scale_min_k4(j, scales, &sc, &mn);
    a[j] = d * sc;
    b[j] = -dmin * mn;
  }
}

}  // namespace bricks::cpu::detail
