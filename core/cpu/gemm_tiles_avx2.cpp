// AVX2 register-tiled GEMM for f32 compute on f32, f16 and bf16 weights: gemm_tiles_avx512.cpp
// in ymm registers, for prompts and batched decode on CPUs without AVX-512. Everything in this
// file carries a target attribute and internal linkage.
//
// A block of 16 weight rows times 256 columns is converted to f32 and transposed into a panel
// ([k][16], 16 KiB, in L1) once, then every group of 6 activation rows runs over it: per
// column, two panel vectors times six broadcast activations into 12 accumulators, which with
// the two panel vectors and the broadcast fill the 16 registers.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bricks/prefetch.hpp"
#include "cpu/gemv_kernels.h"
#include "cpu/row_loads_avx2.h"
#include "cpu/transpose_avx2.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {
// Named apart from gemm_tiles_avx512.cpp's kernels, so that tools that list the compiled
// kernels by name (tests/cpu/weight_kernel_requests.sh) tell the two apart.
namespace ymm {

constexpr int64_t kPanelRows = 16;   // weight rows per panel: two vectors of outputs
constexpr int64_t kPanelCols = 256;  // columns per panel
constexpr int kTileRows = 6;         // activation rows per micro-tile: 12 accumulators

using row_loads::BF16;
using row_loads::F16;
using row_loads::F32;
using row_loads::load8;

// panel[k][j] = W[n + j][k0 + k] for j < rows (zero beyond) and k < cols.
template <class L>
BRICKS_AVX2 void pack(const GemvArgs& a, int64_t n, int64_t rows, int64_t k0, int64_t cols,
                      float* panel) {
  for (int64_t half = 0; half < kPanelRows; half += 8) {
    for (int64_t k = 0; k < cols; k += 8) {
      const int64_t count = std::min<int64_t>(8, cols - k);
      __m256 r[8];
      for (int64_t j = 0; j < 8; ++j) {
        r[j] = half + j < rows ? load8<L>(a.w + (n + half + j) * a.row_bytes, k0 + k, count)
                               : _mm256_setzero_ps();
      }
      transpose8(r);
      for (int64_t i = 0; i < count; ++i)
        _mm256_store_ps(panel + (k + i) * kPanelRows + half, r[i]);
    }
  }
}

// Lanes below n (at most 8) set: the rows of a partial panel.
BRICKS_AVX2 inline __m256i lanes_below(int64_t n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::clamp<int64_t>(n, 0, 8))),
                            index);
}

// y[i][0 .. rows) (+)= sum_k x[i][k] panel[k][.] for i < MR.
template <int MR>
BRICKS_AVX2 void micro(const float* panel, int64_t cols, const float* x, int64_t ldx, float* y,
                       int64_t ldy, bool accumulate, int64_t rows) {
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < cols; ++k) {
    const __m256 w0 = _mm256_load_ps(panel + k * kPanelRows);
    const __m256 w1 = _mm256_load_ps(panel + k * kPanelRows + 8);
    for (int i = 0; i < MR; ++i) {
      const __m256 b = _mm256_broadcast_ss(x + i * ldx + k);
      acc[i][0] = _mm256_fmadd_ps(w0, b, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(w1, b, acc[i][1]);
    }
  }
  // Whole panels take plain loads and stores: masked stores are microcoded on AMD (about 12
  // cycles each on Zen 3), and 24 of them cost a 6-row tile over 256 columns about 10 % of its
  // time (`Gemm` f16 m = 128, one thread: 1.09x without them).
  const bool whole = rows == kPanelRows;
  const __m256i m0 = lanes_below(rows), m1 = lanes_below(rows - 8);
  for (int i = 0; i < MR; ++i) {
    float* yi = y + i * ldy;
    if (accumulate) {
      acc[i][0] =
          _mm256_add_ps(acc[i][0], whole ? _mm256_loadu_ps(yi) : _mm256_maskload_ps(yi, m0));
      acc[i][1] = _mm256_add_ps(acc[i][1],
                                whole ? _mm256_loadu_ps(yi + 8) : _mm256_maskload_ps(yi + 8, m1));
    }
    if (whole) {
      _mm256_storeu_ps(yi, acc[i][0]);
      _mm256_storeu_ps(yi + 8, acc[i][1]);
    } else {
      _mm256_maskstore_ps(yi, m0, acc[i][0]);
      _mm256_maskstore_ps(yi + 8, m1, acc[i][1]);
    }
  }
}

constexpr int64_t kPanelAlign = 32;

#define BRICKS_TILES_TARGET BRICKS_AVX2
#include "gemm_tiles_driver.inc"
#undef BRICKS_TILES_TARGET

}  // namespace ymm
}  // namespace

GemvFn gemm_tiles_avx2(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return ymm::gemm_tiles<ymm::F32>;
    case WeightType::F16:
      return ymm::gemm_tiles<ymm::F16>;
    case WeightType::BF16:
      return ymm::gemm_tiles<ymm::BF16>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
