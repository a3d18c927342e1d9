// Internal to bricks_cpu: the driver of the AVX512_VNNI kernels for many activation rows
// (quant_dot_avx512_rows.cpp for the k-quants, quant_dot_avx512_rows_q8.cpp for q8_0 and
// q4_0): batched decode and short prompts.
//
// A "unit" is the U values that share one weight scale and one activation scale: a block of
// 32 (q8_0, q4_0, and the groups of q4_K and q5_K), or a group of 16 (q6_K). A "group" is 16
// units, one per int32 lane. Its values are stored transposed, in C = U / 4 chunks of 64
// bytes: lane l of chunk c holds the 4 values 4c .. 4c + 4 of the lane's unit. C vpdpbusd,
// each adding one chunk into the same register, then leave in every lane the exact integer
// dot product of one whole unit, and the scales apply once per unit and pair of weight row and
// activation row: one conversion, one multiply and one multiply-add (two for q4_K and q5_K,
// whose mins are a float term), against a conversion and a multiply-add per 4 values when the
// lanes of one vector belong to several units.
//
// Both sides are transposed the same way: the weight rows when they are unpacked into panels
// (R rows at a time, once per call, reused by every tile of activation rows), the activation
// rows once per call (prepare_activations). The transpose takes the natural chunks as they
// load, so lane l ends up holding unit unit_of_lane(l); every per-unit vector (weight scales,
// activation scales and sums) is laid out in that lane order too.
//
// A kernel K provides:
//   static constexpr int kChunks               C: 8 (U = 32) or 4 (U = 16)
//   static constexpr int kIntOffset            u = w + offset folded into the integer sums
//                                              (q8_0 128, q4_0 8, q6_K 32), 0 for none
//   static constexpr bool kMins                a float term b * (activation sum) per unit
//   static constexpr int64_t kGroupBytes       bytes of a weight row per group, to prefetch
//   static constexpr int kTileRows, kTileCols  weight rows R, activation rows MB per tile
//   static void group(const char* row, int64_t cols, int64_t g, __m512i v[C], __m512& f,
//                     __m512& b)               group g of a row: its C natural chunks of u,
//                                              and per unit (in natural order) its scale f
//                                              and min b (kMins); zeros past the row's end
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu::detail::avx512 {

constexpr int kUnits = 16;  // units per group, one per int32 lane

// The unit of a group that lane l holds after transpose<C>: the natural chunk k holds units
// (16 / C) k .. (16 / C) (k + 1), and the transpose moves chunk index k to lane bits 0 .. log C.
template <int C>
constexpr int unit_of_lane(int l) {
  return kUnits / C * (l % C) + l / C;
}

template <int C>
constexpr std::array<int, 16> kLaneUnits = [] {
  std::array<int, 16> index{};
  for (int l = 0; l < 16; ++l) index[l] = unit_of_lane<C>(l);
  return index;
}();

// Stage s of the transpose: the vpermt2d indices that swap bit s of the vector index with bit
// s of the dword position, for the output vector whose new bit s is `high`.
template <int S, bool kHigh>
constexpr std::array<int, 16> kSwapIndex = [] {
  std::array<int, 16> index{};
  for (int p = 0; p < 16; ++p) {
    const int source = (p >> S) & 1;
    const int from = kHigh ? (p | (1 << S)) : (p & ~(1 << S));
    index[p] = source << 4 | from;
  }
  return index;
}();

template <int S, int C>
BRICKS_AVX512_VNNI inline void swap_stage(__m512i v[C]) {
  const __m512i lo = _mm512_loadu_si512(kSwapIndex<S, false>.data());
  const __m512i hi = _mm512_loadu_si512(kSwapIndex<S, true>.data());
  for (int k = 0; k < C; ++k) {
    if ((k >> S) & 1) continue;
    const __m512i a = v[k], b = v[k | (1 << S)];
    v[k] = _mm512_permutex2var_epi32(a, lo, b);
    v[k | (1 << S)] = _mm512_permutex2var_epi32(a, hi, b);
  }
}

// C natural chunks of 64 values (chunk k: dword c of unit u at position (u % (16 / C)) C + c)
// to the transposed chunks: chunk c, lane l = dword c of unit unit_of_lane<C>(l).
template <int C>
BRICKS_AVX512_VNNI inline void transpose(__m512i v[C]) {
  static_assert(C == 4 || C == 8);
  swap_stage<0, C>(v);
  swap_stage<1, C>(v);
  if constexpr (C == 8) swap_stage<2, C>(v);
}

// 16 floats given per unit in natural order, in lane order.
template <int C>
BRICKS_AVX512_VNNI inline __m512 lane_order(__m512 per_unit) {
  return _mm512_permutexvar_ps(_mm512_loadu_si512(kLaneUnits<C>.data()), per_unit);
}

// The activation rows of one call, transposed. Per row and group: C chunks of q, then 16
// floats d (the unit's activation scale), then 16 floats s = d * (sum of the unit's q), then
// 16 int32 offset * (sum of the unit's q).
template <int C>
struct PreparedRows {
  static constexpr int64_t kGroupBytes = (C + 3) * 64;
  std::vector<char> bytes;
  int64_t groups = 0;
  const char* group(int64_t i, int64_t g) const {
    return bytes.data() + (i * groups + g) * kGroupBytes;
  }
  char* group(int64_t i, int64_t g) { return bytes.data() + (i * groups + g) * kGroupBytes; }
};

// Activation rows a.i0 .. a.i0 + a.m of a.x into `out`; the values past a row's padded length
// read as 0 with scale 0.
template <int C>
BRICKS_AVX512_VNNI void prepare_activations(const QuantGemvArgs& a, int offset,
                                            PreparedRows<C>& out) {
  constexpr int kUnit = 4 * C;
  constexpr int64_t kGroupValues = kUnits * kUnit;
  const QuantizedActivations& x = *a.x;
  out.groups = (a.cols + kGroupValues - 1) / kGroupValues;
  out.bytes.resize(static_cast<size_t>(a.m * out.groups * PreparedRows<C>::kGroupBytes));
  const __m512i ones = bytes(1);
  for (int64_t i = 0; i < a.m; ++i) {
    const int8_t* q = x.q.data() + (a.i0 + i) * x.padded;
    const float* d = x.d.data() + (a.i0 + i) * (x.padded / kQuantLane);
    for (int64_t g = 0; g < out.groups; ++g) {
      const int64_t v0 = g * kGroupValues;
      __m512i v[C];
      for (int c = 0; c < C; ++c) {
        const int64_t at = v0 + 64 * c;
        v[c] = at < x.padded ? _mm512_loadu_si512(q + at) : _mm512_setzero_si512();
      }
      transpose<C>(v);
      char* p = out.group(i, g);
      __m512i sums = _mm512_setzero_si512();
      for (int c = 0; c < C; ++c) {
        _mm512_storeu_si512(p + 64 * c, v[c]);
        sums = _mm512_dpbusd_epi32(sums, ones, v[c]);
      }
      alignas(64) float scale[kUnits];
      for (int l = 0; l < kUnits; ++l) {
        const int64_t at = v0 + static_cast<int64_t>(unit_of_lane<C>(l)) * kUnit;
        scale[l] = at < x.padded ? d[at / kQuantLane] : 0.0f;
      }
      const __m512 dl = _mm512_load_ps(scale);
      _mm512_storeu_ps(p + 64 * C, dl);
      _mm512_storeu_ps(p + 64 * (C + 1), _mm512_mul_ps(_mm512_cvtepi32_ps(sums), dl));
      _mm512_storeu_si512(p + 64 * (C + 2), _mm512_mullo_epi32(sums, _mm512_set1_epi32(-offset)));
    }
  }
}

// R weight rows unpacked and transposed. Per group: [C][R] chunks of u, then R vectors f, then
// R vectors b (kernels with kMins), each 64 bytes.
template <class K, int R>
struct Panels {
  static constexpr int64_t kGroupBytes = (K::kChunks + (K::kMins ? 2 : 1)) * R * 64;
  static size_t bytes(int64_t groups) { return static_cast<size_t>(groups * kGroupBytes); }
  static int64_t chunk_at(int64_t g, int c, int r) { return g * kGroupBytes + (c * R + r) * 64; }
  static int64_t f_at(int64_t g, int r) { return g * kGroupBytes + (K::kChunks * R + r) * 64; }
  static int64_t b_at(int64_t g, int r) { return f_at(g, r) + R * 64; }
};

template <class K, int R>
BRICKS_AVX512_VNNI void unpack_rows(const QuantGemvArgs& a, int64_t n, int64_t groups,
                                    char* panels) {
  constexpr int C = K::kChunks;
  using P = Panels<K, R>;
  for (int r = 0; r < R; ++r) {
    const char* row = a.w + (n + r) * a.row_bytes;
    for (int64_t g = 0; g < groups; ++g) {
      __m512i v[C];
      __m512 f, b;
      K::group(row, a.cols, g, v, f, b);
      transpose<C>(v);
      for (int c = 0; c < C; ++c) _mm512_storeu_si512(panels + P::chunk_at(g, c, r), v[c]);
      _mm512_storeu_ps(panels + P::f_at(g, r), lane_order<C>(f));
      if constexpr (K::kMins) _mm512_storeu_ps(panels + P::b_at(g, r), lane_order<C>(b));
    }
  }
}

// R unpacked weight rows (n .. n + R) against the MB prepared activation rows i .. i + MB,
// writing y. With `ahead`, also asks for the next R weight rows, a group of each per group
// here, so that their unpacking finds them in cache.
template <class K, int R, int MB>
BRICKS_AVX512_VNNI void tile(const QuantGemvArgs& a, const PreparedRows<K::kChunks>& x,
                             const char* panels, int64_t n, int64_t i, const char* ahead) {
  constexpr int C = K::kChunks;
  using P = Panels<K, R>;
  __m512 acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t g = 0; g < x.groups; ++g) {
    if (ahead != nullptr) {
      for (int r = 0; r < R; ++r) {
        prefetch_lines(ahead + r * a.row_bytes + g * K::kGroupBytes, K::kGroupBytes);
      }
    }
    const char* xg[MB];
    for (int j = 0; j < MB; ++j) xg[j] = x.group(i + j, g);
    __m512i dot[R][MB];
    for (int j = 0; j < MB; ++j) {
      const __m512i init =
          K::kIntOffset != 0 ? _mm512_loadu_si512(xg[j] + 64 * (C + 2)) : _mm512_setzero_si512();
      for (int r = 0; r < R; ++r) dot[r][j] = init;
    }
    for (int c = 0; c < C; ++c) {
      __m512i xc[MB];
      for (int j = 0; j < MB; ++j) xc[j] = _mm512_loadu_si512(xg[j] + 64 * c);
      for (int r = 0; r < R; ++r) {
        const __m512i w = _mm512_loadu_si512(panels + P::chunk_at(g, c, r));
        for (int j = 0; j < MB; ++j) dot[r][j] = _mm512_dpbusd_epi32(dot[r][j], w, xc[j]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m512 f = _mm512_loadu_ps(panels + P::f_at(g, r));
      for (int j = 0; j < MB; ++j) {
        const __m512 scale = _mm512_mul_ps(f, _mm512_loadu_ps(xg[j] + 64 * C));
        acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][j]), scale, acc[r][j]);
        if constexpr (K::kMins) {
          acc[r][j] = _mm512_fmadd_ps(_mm512_loadu_ps(panels + P::b_at(g, r)),
                                      _mm512_loadu_ps(xg[j] + 64 * (C + 1)), acc[r][j]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[(i + j) * a.ldy + n + r] = _mm512_reduce_add_ps(acc[r][j]);
}

// Activation rows i .. m against R unpacked weight rows, in as few tiles as tiles of MB rows
// take, no tile more than one row smaller than another (tiles of 4: 13 rows go 4 3 3 3, not
// 4 4 4 1; a one-row tile does a weight panel's loads for a single row). The first tile
// prefetches the R rows at `next` (nullptr: none).
template <class K, int R, int MB>
BRICKS_AVX512_VNNI void rows_tiles(const QuantGemvArgs& a, const PreparedRows<K::kChunks>& x,
                                   const char* panels, int64_t n, int64_t i, const char* next) {
  const int64_t rest = a.m - i;
  const int64_t tiles = (rest + MB - 1) / MB;
  const int64_t full = MB > 1 ? rest - tiles * (MB - 1) : tiles;  // tiles of MB rows
  for (int64_t t = 0; t < full; ++t, i += MB, next = nullptr) {
    tile<K, R, MB>(a, x, panels, n, i, next);
  }
  if constexpr (MB > 1) {
    if (i < a.m) rows_tiles<K, R, MB - 1>(a, x, panels, n, i, next);
  }
}

// Weight rows n .. n + R unpacked, then against every activation row; the tiles prefetch the
// R rows at `next` (nullptr: none).
template <class K, int R>
BRICKS_AVX512_VNNI void rows_block(const QuantGemvArgs& a, const PreparedRows<K::kChunks>& x,
                                   int64_t n, const char* next) {
  thread_local std::vector<char> panels;
  panels.resize(Panels<K, R>::bytes(x.groups));
  unpack_rows<K, R>(a, n, x.groups, panels.data());
  rows_tiles<K, R, K::kTileCols>(a, x, panels.data(), n, 0, next);
}

// The QuantGemvFn of kernel K: weight rows [n0, n1) against all a.m activation rows.
template <class K>
BRICKS_AVX512_VNNI void rows_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  constexpr int R = K::kTileRows;
  thread_local PreparedRows<K::kChunks> x;
  prepare_activations<K::kChunks>(a, K::kIntOffset, x);
  int64_t n = n0;
  for (; n + R <= n1; n += R) {
    const bool more = n + 2 * R <= n1;
    rows_block<K, R>(a, x, n, more ? a.w + (n + R) * a.row_bytes : nullptr);
  }
  for (; n < n1; ++n) rows_block<K, 1>(a, x, n, nullptr);
}

}  // namespace bricks::cpu::detail::avx512
