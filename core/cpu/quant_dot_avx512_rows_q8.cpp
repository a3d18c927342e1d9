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
// R weight rows are unpacked first (u and the lane scales a of every 64 values) and reused
// by every tile of MB activation rows; the first tile prefetches the next R rows.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared decoders

// Per 64 values and row: 64 bytes u, then 16 f32 lane scales a.
constexpr int64_t kPanel = 128;

inline int64_t steps_of(int64_t cols) { return (cols + 63) / 64; }

// Rows n .. n + R into panels [steps][R].
template <WeightType T, int R>
BRICKS_AVX512_VNNI void unpack_rows(const QuantGemvArgs& a, int64_t n, char* panels) {
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

// R unpacked rows (weight rows n .. n + R) against the MB activation rows i .. i + MB; with
// `ahead`, also asks for the next R weight rows, 64 values of each per step.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void q_tile(const QuantGemvArgs& a, const char* panels, int64_t n, int64_t i,
                               const char* ahead) {
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

// Weight rows [n, n + R) unpacked, then against every activation row: tiles of MB rows,
// then the rest one at a time.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void q_block(const QuantGemvArgs& a, int64_t n, const char* ahead) {
  thread_local std::vector<char> buf;
  buf.resize(static_cast<size_t>(steps_of(a.cols) * R * kPanel));
  unpack_rows<T, R>(a, n, buf.data());
  int64_t i = 0;
  for (; i + MB <= a.m; i += MB, ahead = nullptr) q_tile<T, R, MB>(a, buf.data(), n, i, ahead);
  for (; i < a.m; ++i, ahead = nullptr) q_tile<T, R, 1>(a, buf.data(), n, i, ahead);
}

template <WeightType T>
BRICKS_AVX512_VNNI void q_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  // 4 x 3 tiles: 12 accumulators, the activations, their offset term and temporaries.
  constexpr int R = 4;
  constexpr int MB = 3;
  int64_t n = n0;
  for (; n + R <= n1; n += R) {
    const bool more = n + 2 * R <= n1;
    q_block<T, R, MB>(a, n, more ? a.w + (n + R) * a.row_bytes : nullptr);
  }
  for (; n < n1; ++n) q_block<T, 1, MB>(a, n, nullptr);
}

}  // namespace

QuantGemvFn quant_rows_q8_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return q_gemv<WeightType::Q8_0>;
    case WeightType::Q4_0:
      return q_gemv<WeightType::Q4_0>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
