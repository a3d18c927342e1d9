// The q8_0 and q4_0 kernels of AVX512_VNNI for many activation rows (batched decode, short
// prompts).
//
// Each 64 weights of a row are two blocks of 32, w = a * (u + kOffset) with u unsigned and a
// the block's scale (Direct<T> in quant_decode_avx512.h). Against the activations q with
// their block scale d_x, the int32 lane of 4 values is exact in one vpdpbusd started from
// kOffset * (the lane's sum of q): sum (u + kOffset) q, at most 4 * 128 * 127. One
// multiply-add then applies a * d_x per lane. The offset term comes from a vpdpbusd of the
// activations alone, once per activation row and 64 values, shared by every weight row.
//
// The rows are unpacked into panels (u and the lane scales a of every 64 values) that every
// tile of activation rows reuses (rows_gemv, quant_rows_avx512.h).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared decoders

// Per 64 values and row: 64 bytes u, then 16 f32 lane scales a.
constexpr int64_t kPanel = 128;

inline int64_t steps_of(int64_t cols) { return (cols + 63) / 64; }

// The kernel of type T for rows_gemv (quant_rows_avx512.h). Panels: [steps][R] of kPanel.
template <WeightType T>
struct QRows {
  // 4 x 4 tiles: 16 accumulators, the activations, their offset term and temporaries. On the
  // AVX-512 EPYC (Zen 5), q8_0 at 16 rows (bench_kernels Crossover, 2 threads): 4 x 2 tiles
  // 240-245 GFLOP/s, 4 x 3 290-295, 4 x 4 340-365, 4 x 5 345, 4 x 6 310-315.
  static constexpr int kTileRows = 4;
  static constexpr int kTileCols = 4;

  template <int R>
  static size_t panel_bytes(int64_t cols) {
    return static_cast<size_t>(steps_of(cols) * R * kPanel);
  }

  template <int R>
  BRICKS_AVX512_VNNI static void unpack(const QuantGemvArgs& a, int64_t n, char* panels) {
    const int64_t steps = steps_of(a.cols);
    for (int r = 0; r < R; ++r) {
      const char* row = a.w + (n + r) * a.row_bytes;
      for (int64_t st = 0; st < steps; ++st) {
        __m512i u;
        __m512 s;
        Direct<T>::chunk(row, st, (st + 1) * 64 > a.cols, u, s);
        char* p = panels + (st * R + r) * kPanel;
        _mm512_storeu_si512(p, u);
        _mm512_storeu_ps(p + 64, s);
      }
    }
  }

  template <int R, int MB>
  BRICKS_AVX512_VNNI static void tile(const QuantGemvArgs& a, const char* panels, int64_t n,
                                      int64_t i, const char* ahead) {
    constexpr int64_t kStepBytes = 2 * static_cast<int64_t>(sizeof(typename Direct<T>::B));
    const QuantizedActivations& x = *a.x;
    const int64_t lane_stride = x.padded / kQuantLane;
    const int8_t* q[MB];
    const float* d[MB];
    for (int j = 0; j < MB; ++j) {
      q[j] = x.q.data() + (a.i0 + i + j) * x.padded;
      d[j] = x.d.data() + (a.i0 + i + j) * lane_stride;
    }
    const __m512i offset = bytes(static_cast<int>(-Direct<T>::kOffset));
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
    const int64_t steps = steps_of(a.cols);
    for (int64_t st = 0; st < steps; ++st) {
      if (ahead != nullptr) {
        for (int r = 0; r < R; ++r) {
          prefetch_lines(ahead + r * a.row_bytes + st * kStepBytes, kStepBytes);
        }
      }
      const char* panel = panels + st * R * kPanel;
      for (int j = 0; j < MB; ++j) {
        const __m512i xq = _mm512_loadu_si512(q[j] + st * 64);
        const __m512 dj = _mm512_loadu_ps(d[j] + st * 16);
        const __m512i zero = _mm512_setzero_si512();
        const __m512i base = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offset, xq));
        for (int r = 0; r < R; ++r) {
          const char* p = panel + r * kPanel;
          const __m512i dot = _mm512_dpbusd_epi32(base, _mm512_loadu_si512(p), xq);
          acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                      _mm512_mul_ps(_mm512_loadu_ps(p + 64), dj), acc[r][j]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < MB; ++j) a.y[(i + j) * a.ldy + n + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
};

}  // namespace

QuantGemvFn quant_rows_q8_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return rows_gemv<QRows<WeightType::Q8_0>>;
    case WeightType::Q4_0:
      return rows_gemv<QRows<WeightType::Q4_0>>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
