// AVX-512 register-tiled GEMM for f32 compute on f32, f16 and bf16 weights: the many-row
// counterpart of the GEMV kernels (gemv_kernels.h), for prompts. Everything in this file
// carries a target attribute and internal linkage.
//
// A block of 32 weight rows times 256 columns is converted to f32 and transposed into a
// panel ([k][32], 32 KiB, in L1) once, then every group of 6 activation rows runs over it:
// per column, two panel vectors times six broadcast activations into 12 accumulators, with
// no horizontal sums. The GEMV's dot-product form needs a vector of partial sums per (row,
// activation) pair and a horizontal sum each; this one reaches the FMA ports instead.
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cstdint>

#include "bricks/prefetch.hpp"
#include "cpu/gemv_kernels.h"

#define BRICKS_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

constexpr int64_t kPanelRows = 32;   // weight rows per panel: two vectors of outputs
constexpr int64_t kPanelCols = 256;  // columns per panel
constexpr int kTileRows = 6;         // activation rows per micro-tile: 12 accumulators

BRICKS_AVX512 inline __mmask16 first(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff)
                 : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1u);
}

// Values k .. k + 15 of a weight row as f32 (`count` of them, the rest zero).
struct F32 {
  BRICKS_AVX512 static __m512 load(const char* row, int64_t k, int64_t count) {
    return _mm512_maskz_loadu_ps(first(count), reinterpret_cast<const float*>(row) + k);
  }
};
struct F16 {
  BRICKS_AVX512 static __m512 load(const char* row, int64_t k, int64_t count) {
    const auto* p = reinterpret_cast<const uint16_t*>(row) + k;
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first(count), p));
  }
};
struct BF16 {
  BRICKS_AVX512 static __m512 load(const char* row, int64_t k, int64_t count) {
    const auto* p = reinterpret_cast<const uint16_t*>(row) + k;
    const __m256i h = _mm256_maskz_loadu_epi16(first(count), p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

// r[j] becomes column j of the 16 x 16 block whose row i is r[i]: interleave floats, then
// pairs, then 128-bit quarters twice.
BRICKS_AVX512 inline void transpose16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 4; ++i) {
      t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
      t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xdd);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
  }
}

// panel[k][j] = W[n + j][k0 + k] for j < rows (zero beyond) and k < cols.
template <class L>
BRICKS_AVX512 void pack(const GemvArgs& a, int64_t n, int64_t rows, int64_t k0, int64_t cols,
                        float* panel) {
  for (int64_t half = 0; half < kPanelRows; half += 16) {
    for (int64_t k = 0; k < cols; k += 16) {
      const int64_t count = std::min<int64_t>(16, cols - k);
      __m512 r[16];
      for (int64_t j = 0; j < 16; ++j) {
        r[j] = half + j < rows ? L::load(a.w + (n + half + j) * a.row_bytes, k0 + k, count)
                               : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int64_t i = 0; i < count; ++i) _mm512_store_ps(panel + (k + i) * kPanelRows + half, r[i]);
    }
  }
}

// y[i][0 .. rows) (+)= sum_k x[i][k] panel[k][.] for i < MR.
template <int MR>
BRICKS_AVX512 void micro(const float* panel, int64_t cols, const float* x, int64_t ldx, float* y,
                         int64_t ldy, bool accumulate, int64_t rows) {
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < cols; ++k) {
    const __m512 w0 = _mm512_load_ps(panel + k * kPanelRows);
    const __m512 w1 = _mm512_load_ps(panel + k * kPanelRows + 16);
    for (int i = 0; i < MR; ++i) {
      const __m512 b = _mm512_set1_ps(x[i * ldx + k]);
      acc[i][0] = _mm512_fmadd_ps(w0, b, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(w1, b, acc[i][1]);
    }
  }
  const __mmask16 m0 = first(rows), m1 = first(rows - 16);
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, yi));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, yi + 16));
    }
    _mm512_mask_storeu_ps(yi, m0, acc[i][0]);
    _mm512_mask_storeu_ps(yi + 16, m1, acc[i][1]);
  }
}

constexpr int64_t kPanelAlign = 64;

#define BRICKS_TILES_TARGET BRICKS_AVX512
#include "gemm_tiles_driver.inc"
#undef BRICKS_TILES_TARGET

}  // namespace

GemvFn gemm_tiles_avx512(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return gemm_tiles<F32>;
    case WeightType::F16:
      return gemm_tiles<F16>;
    case WeightType::BF16:
      return gemm_tiles<BF16>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
