// AVX2 GEMV for 16 to 31 activation rows on f32, f16 and bf16 weights, in f32 arithmetic:
// each weight value is broadcast against a vector of activations. Everything in this file
// carries a target attribute and internal linkage.
//
// The row kernels of gemv_avx2.cpp multiply a vector of 8 columns of a weight row by the same
// columns of each activation row: per weight vector they convert it once and load one
// activation vector per row, which from 4 rows on comes from L2 (Zen 3, 2 threads, f16: 113-136
// GFLOP/s at 16 and 24 rows, of a 206 FMA peak). Here the activations are transposed once per call
// so that one vector holds one column of 8 activation rows (or two columns of 4 rows, four of 2),
// and 12 weight rows are converted to f32 once per 256 columns into a panel (12 KiB, in L1); each
// panel value is then one broadcast load against one or two activation vectors. With 16 rows
// a column costs 2 activation loads, 6 broadcasts and 12 FMAs (the tile takes the panel's rows
// in two halves of 6); with 8 or fewer, 1 load, 12 broadcasts and 12 FMAs. Rows go in groups
// of 16 (up to 31 rows: 16 and a group of 2, 4, 8 or 16 padded with zero rows).
//
// From L1 the 6 x 2 tile runs at 99 % of the FMA peak; in the kernel (GemvCached f16, 16 rows,
// one thread) the tiles take two thirds of the time at about 86 GFLOP/s and the conversion a
// fifth, at 2.8 cycles a vector of 8 (1.1 from L1: its loads wait on L2 and L3). Converting the
// next panel inside the tile loop instead, or asking for its rows into L1 there, ran slower.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bricks/prefetch.hpp"
#include "cpu/gemv_kernels.h"
#include "cpu/row_loads_avx2.h"
#include "cpu/scratch.h"
#include "cpu/transpose_avx2.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {
namespace bcast {

constexpr int64_t kRows = 12;    // weight rows per panel
constexpr int64_t kChunk = 256;  // columns per panel
constexpr int64_t kGroup = 16;   // activation rows per group: two vectors a column

using row_loads::BF16;
using row_loads::F16;
using row_loads::F32;
using row_loads::load8;

// A group of activation rows as the tiles read it. `padded` rows (2, 4, 8 or 16) cover the
// group's `rows`; a vector holds `per_vector` = 8 / padded columns of them when padded < 8
// (lane i * per_vector + c: row i, column c of the step), one column of 8 rows otherwise.
struct Group {
  int64_t row0, rows, padded;
  float* xt;  // [cols8 * padded] floats, rows beyond `rows` and columns beyond cols zero

  int64_t per_vector() const { return padded >= 8 ? 1 : 8 / padded; }
  int64_t vectors() const { return padded >= 8 ? padded / 8 : 1; }  // vectors a step
};

int64_t padded_rows(int64_t rows) {
  int64_t p = 2;
  while (p < rows) p *= 2;
  return p;
}

// xt for rows [row0, row0 + rows) of x: column k of row i at
// (k / per_vector) * 8 * vectors + (i / 8) * 8 + (i % 8) * per_vector + k % per_vector.
BRICKS_AVX2 void transpose_group(const GemvArgs& a, const Group& g, int64_t cols8) {
  if (g.rows < g.padded || a.cols < cols8) std::fill(g.xt, g.xt + cols8 * g.padded, 0.0f);
  const float* x = a.x + g.row0 * a.cols;
  if (g.padded < 8) {  // per_vector columns of each row side by side
    const int64_t per_vector = g.per_vector();
    for (int64_t k = 0; k < a.cols; k += per_vector) {
      const auto bytes = static_cast<size_t>(std::min(per_vector, a.cols - k)) * sizeof(float);
      float* v = g.xt + k / per_vector * 8;
      for (int64_t i = 0; i < g.rows; ++i)
        std::memcpy(v + i * per_vector, x + i * a.cols + k, bytes);
    }
    return;
  }
  // 8 rows by 8 columns at a time, transposed in registers.
  const int64_t step = g.padded;
  for (int64_t i0 = 0; i0 < g.rows; i0 += 8) {
    const int64_t rows = std::min<int64_t>(8, g.rows - i0);
    int64_t k = 0;
    for (; k + 8 <= a.cols; k += 8) {
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i)
        r[i] = i < rows ? _mm256_loadu_ps(x + (i0 + i) * a.cols + k) : _mm256_setzero_ps();
      transpose8(r);
      for (int64_t c = 0; c < 8; ++c) _mm256_store_ps(g.xt + (k + c) * step + i0, r[c]);
    }
    for (; k < a.cols; ++k)
      for (int64_t i = 0; i < rows; ++i) g.xt[k * step + i0 + i] = x[(i0 + i) * a.cols + k];
  }
}

// panel[r][c] = W[n + r][k0 + c] for r < rows, c < cols rounded up to 8 (zero beyond).
template <class L>
BRICKS_AVX2 __attribute__((noinline)) void pack(const GemvArgs& a, int64_t n, int64_t rows,
                                                int64_t k0, int64_t cols, float* panel) {
  for (int64_t r = 0; r < kRows; ++r) {
    float* out = panel + r * kChunk;
    if (r >= rows) {
      std::fill(out, out + kChunk, 0.0f);
      continue;
    }
    const char* row = a.w + (n + r) * a.row_bytes;
    for (int64_t c = 0; c < cols; c += 8) {
      _mm256_store_ps(out + c, load8<L>(row, k0 + c, std::min<int64_t>(8, cols - c)));
    }
  }
}

// The panel value(s) that meet one activation vector: one column broadcast to 8 lanes, or
// `per_vector` adjacent columns repeated 8 / per_vector times.
template <int PerVector>
BRICKS_AVX2 inline __m256 broadcast(const float* p) {
  if constexpr (PerVector == 1) return _mm256_broadcast_ss(p);
  if constexpr (PerVector == 2) {
    return _mm256_castpd_ps(_mm256_broadcast_sd(reinterpret_cast<const double*>(p)));
  }
  if constexpr (PerVector == 4) return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
}

// Requests for the weight bytes of the next panel row group while a tile runs: `lines` cache
// lines from `p`, `per_step` a step.
struct Ahead {
  const char* p = nullptr;
  int64_t lines = 0, per_step = 0;
};

// acc[r][v] over `steps` steps of the panel's rows r < R (from `panel`) and the group's
// vectors v < V; out (R x V vectors) takes the sums, or adds them when `add`.
template <int R, int V, int PerVector>
BRICKS_AVX2 __attribute__((noinline)) void tile(const float* panel, const float* xt, int64_t steps,
                                                float* out, bool add, Ahead ahead) {
  // One flat array, every loop unrolled: GCC 12 kept a 2-D array of accumulators on the stack
  // as well and stored all 12 on every step (half the speed).
  __m256 acc[R * V];
#pragma GCC unroll 16
  for (int j = 0; j < R * V; ++j) acc[j] = add ? _mm256_load_ps(out + j * 8) : _mm256_setzero_ps();
  for (int64_t s = 0; s < steps; ++s) {
    for (int64_t t = 0; t < ahead.per_step && ahead.lines > 0; ++t, --ahead.lines) {
      bricks::prefetch_line(ahead.p);
      ahead.p += 64;
    }
    __m256 xv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) xv[v] = _mm256_load_ps(xt + (s * V + v) * 8);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 b = broadcast<PerVector>(panel + r * kChunk + s * PerVector);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r * V + v] = _mm256_fmadd_ps(b, xv[v], acc[r * V + v]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < R * V; ++j) _mm256_store_ps(out + j * 8, acc[j]);
}

// The panel's columns [0, cols8) against group g from column k0; sums into out
// (kRows x vectors x 8 floats). `ahead` is spread over the group's steps.
BRICKS_AVX2 void run_group(const Group& g, const float* panel, int64_t k0, int64_t cols8,
                           float* out, bool add, Ahead ahead) {
  const int64_t steps = cols8 / g.per_vector();
  ahead.per_step = (ahead.lines + steps - 1) / steps;
  switch (g.padded) {
    case 16:
      tile<6, 2, 1>(panel, g.xt + k0 * 16, steps, out, add, ahead);
      tile<6, 2, 1>(panel + 6 * kChunk, g.xt + k0 * 16, steps, out + 6 * 16, add, Ahead{});
      break;
    case 8:
      tile<kRows, 1, 1>(panel, g.xt + k0 * 8, steps, out, add, ahead);
      break;
    case 4:
      tile<kRows, 1, 2>(panel, g.xt + k0 * 4, steps, out, add, ahead);
      break;
    default:
      tile<kRows, 1, 4>(panel, g.xt + k0 * 2, steps, out, add, ahead);
      break;
  }
}

// y[group rows][n + r] for r < rows from out.
void store_group(const GemvArgs& a, const Group& g, const float* out, int64_t n, int64_t rows) {
  const int64_t vectors = g.vectors(), per_vector = g.per_vector();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < g.rows; ++i) {
      const float* lanes = out + (r * vectors + i / 8) * 8;
      float s = 0.0f;
      if (per_vector == 1) {
        s = lanes[i % 8];
      } else {
        for (int64_t c = 0; c < per_vector; ++c) s += lanes[i * per_vector + c];
      }
      a.y[(g.row0 + i) * a.ldy + n + r] = s;
    }
  }
}

template <class L>
BRICKS_AVX2 void gemv_bcast(const GemvArgs& a, int64_t n0, int64_t n1) {
  const int64_t cols8 = (a.cols + 7) / 8 * 8;
  const int64_t groups = (a.m + kGroup - 1) / kGroup;
  thread_local std::vector<float> xt_buf, out_buf;
  // xt: kGroup * cols8 floats a group; out: kRows x 2 vectors a group.
  float* xt = scratch(xt_buf, static_cast<size_t>(groups * kGroup * cols8 + 8));
  float* outs = scratch(out_buf, static_cast<size_t>(groups * kRows * kGroup + 8));
  // 32-byte alignment for the vector loads and stores.
  xt += (8 - (reinterpret_cast<uintptr_t>(xt) / 4) % 8) % 8;
  outs += (8 - (reinterpret_cast<uintptr_t>(outs) / 4) % 8) % 8;
  const auto group = [&](int64_t j) {
    const int64_t rows = std::min(kGroup, a.m - j * kGroup);
    return Group{j * kGroup, rows, padded_rows(rows), xt + j * kGroup * cols8};
  };
  for (int64_t j = 0; j < groups; ++j) transpose_group(a, group(j), cols8);
  const auto row_bytes = static_cast<int64_t>(a.row_bytes);
  const int64_t chunks = (a.cols + kChunk - 1) / kChunk;
  alignas(32) thread_local float panel[kRows * kChunk];
  for (int64_t n = n0; n < n1; n += kRows) {
    const int64_t rows = std::min(kRows, n1 - n);
    // The next row group lies after this one: asked for in address order, a share per chunk.
    const int64_t ahead_rows = std::clamp<int64_t>(n1 - n - kRows, 0, kRows);
    const int64_t lines = (ahead_rows * row_bytes + 63) / 64;
    const int64_t share = (lines + chunks - 1) / chunks;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t k0 = c * kChunk;
      const int64_t cols = std::min(kChunk, a.cols - k0);
      pack<L>(a, n, rows, k0, cols, panel);
      const Ahead ahead{a.w + (n + kRows) * row_bytes + c * share * 64,
                        std::clamp<int64_t>(lines - c * share, 0, share)};
      for (int64_t j = 0; j < groups; ++j) {
        run_group(group(j), panel, k0, (cols + 7) / 8 * 8, outs + j * kRows * kGroup, c > 0,
                  j == 0 ? ahead : Ahead{});
      }
    }
    for (int64_t j = 0; j < groups; ++j)
      store_group(a, group(j), outs + j * kRows * kGroup, n, rows);
  }
}

}  // namespace bcast
}  // namespace

GemvFn gemv_bcast_avx2(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return bcast::gemv_bcast<bcast::F32>;
    case WeightType::F16:
      return bcast::gemv_bcast<bcast::F16>;
    case WeightType::BF16:
      return bcast::gemv_bcast<bcast::BF16>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
