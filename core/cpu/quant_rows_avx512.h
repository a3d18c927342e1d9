// Internal to bricks_cpu: the driver of the AVX512_VNNI kernels for many activation rows
// (quant_dot_avx512_rows.cpp for the k-quants, quant_dot_avx512_rows_q8.cpp for q8_0 and
// q4_0). Each weight row is read from memory once per call: R rows at a time are unpacked
// into a per-thread panel buffer that stays in L1/L2, and every tile of activation rows then
// runs over those panels. The first tile of a block also prefetches the next R weight rows,
// so that their unpacking finds them in cache.
//
// A kernel K provides:
//   static constexpr int kTileRows, kTileCols   weight rows R, activation rows MB per tile
//   template <int R> static size_t panel_bytes(int64_t cols)
//   template <int R> static void unpack(const QuantGemvArgs&, int64_t n, char* panels)
//   template <int R, int MB> static void tile(const QuantGemvArgs&, const char* panels,
//       int64_t n, int64_t i, const char* ahead)   weight rows n .. n + R against activation
//       rows i .. i + MB, writing y; with `ahead`, prefetching R rows from there as it goes
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu::detail::avx512 {

// Activation rows i .. m against R unpacked weight rows, in as few tiles as tiles of MB rows
// take, no tile more than one row smaller than another (tiles of 4: 13 rows go 4 3 3 3, not
// 4 4 4 1; a one-row tile does a weight panel's loads for a single row). The first tile
// prefetches from `ahead` (nullptr: nothing).
template <class K, int R, int MB>
BRICKS_AVX512_VNNI void rows_tiles(const QuantGemvArgs& a, const char* panels, int64_t n, int64_t i,
                                   const char* ahead) {
  const int64_t rest = a.m - i;
  const int64_t tiles = (rest + MB - 1) / MB;
  const int64_t full = MB > 1 ? rest - tiles * (MB - 1) : tiles;  // tiles of MB rows
  for (int64_t t = 0; t < full; ++t, i += MB, ahead = nullptr) {
    K::template tile<R, MB>(a, panels, n, i, ahead);
  }
  if constexpr (MB > 1) {
    if (i < a.m) rows_tiles<K, R, MB - 1>(a, panels, n, i, ahead);
  }
}

// Weight rows n .. n + R unpacked, then against every activation row.
template <class K, int R>
BRICKS_AVX512_VNNI void rows_block(const QuantGemvArgs& a, int64_t n, const char* ahead) {
  thread_local std::vector<char> panels;
  panels.resize(K::template panel_bytes<R>(a.cols));
  K::template unpack<R>(a, n, panels.data());
  rows_tiles<K, R, K::kTileCols>(a, panels.data(), n, 0, ahead);
}

// The QuantGemvFn of kernel K: weight rows [n0, n1) against all a.m activation rows.
template <class K>
BRICKS_AVX512_VNNI void rows_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  constexpr int R = K::kTileRows;
  int64_t n = n0;
  for (; n + R <= n1; n += R) {
    const bool more = n + 2 * R <= n1;
    rows_block<K, R>(a, n, more ? a.w + (n + R) * a.row_bytes : nullptr);
  }
  for (; n < n1; ++n) rows_block<K, 1>(a, n, nullptr);
}

}  // namespace bricks::cpu::detail::avx512
