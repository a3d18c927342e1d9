// The AVX512_VNNI kernel of q8_0 weights in the lane layout (weight_lanes.h), for every
// number of activation rows.
//
// The activation rows of a call are transposed once into the same lane order
// (prepare_activations of quant_rows_avx512.h, offset 128), so chunk c of a weight group and
// chunk c of an activation group hold the same 4 values of the same block in each lane. Per
// group and pair of weight row and activation row: 8 vpdpbusd into one register that starts
// at -128 * (the block's activation sum), which leaves in each lane the block's exact integer
// dot product; then one conversion and one multiply-add by the product of the two scales.
// A tile is R weight rows against MB activation rows; at one activation row the tiles take
// rows from the two halves of the range (register_tiles, quant_dot.h) and ask for the
// weights kAheadRows further, as the kernels on the file's layout do.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"
#include "cpu/weight_lanes.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared transposes

constexpr int kC = static_cast<int>(kLaneChunks);
static_assert(kC == 8 && kLaneGroupBlocks == kUnits);
static_assert([] {
  for (int l = 0; l < 16; ++l) {
    if (lane_block(l) != unit_of_lane<8>(l)) return false;
  }
  return true;
}());

constexpr int64_t kGroupWeights = kLaneGroupValues;  // weight bytes per group
constexpr int64_t kGroupScales = 2 * kLaneGroupBlocks;

// R weight rows n, n + spacing, ... against the MB prepared activation rows i .. i + MB.
template <int R, int MB>
BRICKS_AVX512_VNNI void lanes_tile(const QuantGemvArgs& a, const PreparedRows<kC>& x, int64_t n,
                                   int64_t spacing, int64_t i) {
  const int64_t groups = x.groups;
  const int64_t row_weights = groups * kGroupWeights;
  const char* w = a.w + n * row_weights;
  const char* s = a.scales + n * groups * kGroupScales;
  const int64_t w_stride = spacing * row_weights, s_stride = spacing * groups * kGroupScales;
  const int64_t ahead = ahead_rows(R, spacing) * row_weights;
  // Below 8 pairs of rows the integer sums of a group run as two chains of 4 vpdpbusd, even
  // chunks and odd ones, so that fewer wait on each other's latency: one thread on weights in
  // L2 read 80-89 GB/s so against 75-78 with one chain of 8 (bench_kernels GemvCached).
  constexpr int kChains = R * MB < 8 ? 2 : 1;
  __m512 acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, w += kGroupWeights, s += kGroupScales) {
    for (int r = 0; r < R; ++r) prefetch_span<kGroupWeights>(w + r * w_stride + ahead);
    const char* xg[MB];
    for (int j = 0; j < MB; ++j) xg[j] = x.group(i + j, g);
    __m512i dot[kChains][R][MB];
    for (int j = 0; j < MB; ++j) {
      const __m512i offset = _mm512_loadu_si512(xg[j] + 64 * (kC + 2));
      for (int r = 0; r < R; ++r) {
        dot[0][r][j] = offset;
        for (int h = 1; h < kChains; ++h) dot[h][r][j] = _mm512_setzero_si512();
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < kC; ++c) {
      __m512i xc[MB];
      for (int j = 0; j < MB; ++j) xc[j] = _mm512_loadu_si512(xg[j] + 64 * c);
      for (int r = 0; r < R; ++r) {
        const __m512i wc = _mm512_loadu_si512(w + r * w_stride + 64 * c);
        for (int j = 0; j < MB; ++j) {
          __m512i& d = dot[c % kChains][r][j];
          d = _mm512_dpbusd_epi32(d, wc, xc[j]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m512 f =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + r * s_stride)));
      for (int j = 0; j < MB; ++j) {
        __m512i sum = dot[0][r][j];
        for (int h = 1; h < kChains; ++h) sum = _mm512_add_epi32(sum, dot[h][r][j]);
        const __m512 scale = _mm512_mul_ps(f, _mm512_loadu_ps(xg[j] + 64 * kC));
        acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j)
      a.y[(i + j) * a.ldy + n + r * spacing] = _mm512_reduce_add_ps(acc[r][j]);
}

// Weight rows [n0, n1) against activation rows i .. i + MB: 4 rows at a time, then one. With 4
// activation rows the tile's accumulators spill, and still 2 weight rows at a time ran slower
// from memory (5632 x 2048, 2 threads: 22 against 48-50 GB/s).
template <int MB>
BRICKS_AVX512_VNNI void lanes_rows(const QuantGemvArgs& a, const PreparedRows<kC>& x, int64_t n0,
                                   int64_t n1, int64_t i) {
  register_tiles<4, false>(n0, n1, [&]<int Rows>(int64_t n, int64_t spacing) BRICKS_AVX512_VNNI {
    lanes_tile<Rows, MB>(a, x, n, spacing, i);
  });
}

// Weight rows that a panel holds for all tiles of activation rows: read from memory by the
// first tile, from L1 or L2 by the others.
constexpr int64_t kPanelRows = 16;

BRICKS_AVX512_VNNI void lanes_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  thread_local PreparedRows<kC> x;
  prepare_activations<kC>(a, 128, x);
  if (a.m == 1) {
    register_tiles<4, true>(n0, n1, [&]<int Rows>(int64_t n, int64_t spacing) BRICKS_AVX512_VNNI {
      lanes_tile<Rows, 1>(a, x, n, spacing, 0);
    });
    return;
  }
  // Tiles of at most 4 activation rows, no two differing by more than one row.
  const int64_t tiles = (a.m + 3) / 4;
  for (int64_t n = n0; n < n1; n += kPanelRows) {
    const int64_t end = std::min(n + kPanelRows, n1);
    for (int64_t t = 0, i = 0; t < tiles; ++t) {
      const int64_t rows = a.m / tiles + (t < a.m % tiles ? 1 : 0);
      switch (rows) {
        case 1:
          lanes_rows<1>(a, x, n, end, i);
          break;
        case 2:
          lanes_rows<2>(a, x, n, end, i);
          break;
        case 3:
          lanes_rows<3>(a, x, n, end, i);
          break;
        default:
          lanes_rows<4>(a, x, n, end, i);
          break;
      }
      i += rows;
    }
  }
}

}  // namespace

QuantGemvFn quant_lanes_avx512_vnni(WeightType t) {
  return t == WeightType::Q8_0 ? lanes_gemv : nullptr;
}

}  // namespace bricks::cpu::detail
