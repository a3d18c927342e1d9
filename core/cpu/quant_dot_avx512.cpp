// The zmm integer GEMV kernels: vpdpbusd on AVX512_VNNI, 64 int8 products per instruction. For a
// few activation rows (decode) q8_0, q4_0 and the k-quants decode each 64 weights in registers
// right before their dot products, so a weight byte is read once and never stored; those kernels
// also prefetch the rows they read next (their R rows side by side are R streams, which the
// hardware prefetcher follows too late: prefetching made batch-1 decode 1.4-1.8x faster); q4_K and
// q5_K take them up to 8 activation rows, 4 at a time. For more rows the same types go to the
// many-row kernels (quant_dot_avx512_rows.cpp, quant_dot_avx512_rows_q8.cpp). q4_1, q5_0 and q5_1
// take the unpacked-row tiling of quant_dot_tile.inc for every row count, their weights unpacked by
// the AVX2 unpackers (quant_dot_avx2.cpp). The register decoders are shared with the many-row
// kernels (quant_decode_avx512.h). Everything in this file carries a target attribute and internal
// linkage, except the table at the end.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): this file's own decoders

using VecF = __m512;
constexpr int kBytes = 64;
// 32 zmm registers: 4 x 4 accumulators, the activation scale and sum, and temporaries.
constexpr int kTileRows = 4;

BRICKS_AVX512_VNNI inline __m512 fzero() { return _mm512_setzero_ps(); }
BRICKS_AVX512_VNNI inline __m512 fload(const float* p) { return _mm512_loadu_ps(p); }
// The scales of one vector of values (64) from the scales p[0], p[1] of its two blocks.
BRICKS_AVX512_VNNI inline __m512 fblocks(const float* p) {
  const __m512 two = _mm512_castps128_ps512(_mm_loadu_ps(p));  // p[0], p[1] used
  return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                               two);
}
BRICKS_AVX512_VNNI inline __m512 fmul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
BRICKS_AVX512_VNNI inline __m512 ffma(__m512 a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(a, b, c);
}
BRICKS_AVX512_VNNI inline float fsum(__m512 v) { return _mm512_reduce_add_ps(v); }

BRICKS_AVX512_VNNI inline __m512 dot_lanes(const uint8_t* u, const int8_t* q) {
  const __m512i w = _mm512_loadu_si512(u), x = _mm512_loadu_si512(q);
  return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, x));
}

#define BRICKS_QDOT_TARGET BRICKS_AVX512_VNNI
#include "quant_dot_tile.inc"

// ---- Decoding in registers, for a few activation rows ------------------------------------

// Activation rows up to which the register-decoding kernels run; above, unpacking each
// weight row once into the buffer and reusing it is cheaper.
constexpr int64_t kDirectMaxRows = 4;

// R weight rows n, n + spacing, ... n + (R - 1) spacing of a k-quant type against the MB
// activation rows i0 .. i0 + MB.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void super_tile(const QuantGemvArgs& a, int64_t n, int64_t spacing = 1) {
  using S = Super<T>;
  constexpr int64_t kBlockBytes = sizeof(typename S::Block);
  const QuantizedActivations& x = *a.x;
  const int8_t* q[MB];
  const float* k[MB];
  for (int j = 0; j < MB; ++j) {
    q[j] = x.q.data() + (a.i0 + j) * x.padded;
    k[j] = x.k.data() + (a.i0 + j) * x.super_stride;
  }
  const char* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = a.w + (n + r * spacing) * a.row_bytes;
  const int64_t ahead = ahead_rows(R, spacing);
  VecF acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = fzero();
  const int64_t steps = a.cols / kQKK;
  for (int64_t st = 0; st < steps; ++st) {
    VecF f[R][MB];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      // The same super-block ahead_rows() further: the rows of a tile are read side by side, R
      // streams that the hardware prefetcher alone follows too late.
      prefetch_span<kBlockBytes>(rows[r] + ahead * a.row_bytes + st * kBlockBytes);
      const __m512 ab = S::scales(rows[r] + st * kBlockBytes);
      for (int j = 0; j < MB; ++j) f[r][j] = S::factors(ab, k[j] + st * kSuperFloats, acc[r][j]);
    }
    for (int c = 0; c < kQKK / kBytes; ++c) {
      const int64_t kk = st * kQKK + c * kBytes;
      const __m512i idx = S::lanes(c);
      __m512i u[R];
      for (int r = 0; r < R; ++r) u[r] = S::bits(rows[r] + st * kBlockBytes, c);
      for (int j = 0; j < MB; ++j) {
        const __m512i xq = _mm512_loadu_si512(q[j] + kk);
        for (int r = 0; r < R; ++r) {
          const VecF dot =
              _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[r], xq));
          acc[r][j] = ffma(dot, _mm512_permutexvar_ps(idx, f[r][j]), acc[r][j]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[j * a.ldy + n + r * spacing] = fsum(acc[r][j]);
}

// R weight rows n, n + spacing, ... n + (R - 1) spacing of q4_0 or q8_0 against the MB
// activation rows i0 .. i0 + MB.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void direct_tile(const QuantGemvArgs& a, int64_t n, int64_t spacing = 1) {
  using D = Direct<T>;
  constexpr int64_t kStepBytes = 2 * static_cast<int64_t>(sizeof(typename D::B));
  const QuantizedActivations& x = *a.x;
  const int64_t lane_stride = x.padded / kQuantLane;
  const int8_t* q[MB];
  const float *d[MB], *s[MB];
  for (int j = 0; j < MB; ++j) {
    q[j] = x.q.data() + (a.i0 + j) * x.padded;
    d[j] = x.d.data() + (a.i0 + j) * lane_stride;
    s[j] = x.s.data() + (a.i0 + j) * lane_stride;
  }
  // Every address below is `at` plus multiples of the tile's and the row's strides: the rows
  // of the tile and, ahead_rows() further, those the prefetches ask for. Kept as one
  // pointer and two strides, they fit the addressing modes. A pointer per row and prefetch (12
  // at R = 4) spilled to xmm registers: 115 instructions a step at R = 4, MB = 1, against 75,
  // and on weights in cache batch 1 ran 49 against 60 GB/s (q8_0) and 29 against 34 (q4_0).
  const int64_t row = static_cast<int64_t>(a.row_bytes);
  const int64_t stride = row * spacing;
  const int64_t ahead = ahead_rows(R, spacing) * row;
  const char* at = a.w + n * row;
  VecF acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = fzero();
  // One step of 64 values; kOne on a last step that holds a single block.
  auto step = [&]<bool kOne>(int64_t st) BRICKS_AVX512_VNNI {
    const int64_t k = st * kBytes;
    const int64_t l = k / kQuantLane;
    __m512i u[R];
    VecF wa[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      // The same step ahead_rows() further, as super_tile, one request per 64 bytes:
      // where the step's last bytes spill into one more line, that line is the next step's first.
      for (int64_t line = 0; line < kStepBytes; line += 64) {
        _mm_prefetch(at + r * stride + ahead + line, _MM_HINT_T0);
      }
      D::chunk(at + r * stride, kOne, u[r], wa[r]);
    }
    for (int j = 0; j < MB; ++j) {
      const __m512i xq = _mm512_loadu_si512(q[j] + k);
      const VecF dj = fload(d[j] + l);
      // a * (dot * d + kOffset * s): the offset of every weight times the lane's sum.
      const VecF sj = fmul(fload(s[j] + l), _mm512_set1_ps(D::kOffset));
      for (int r = 0; r < R; ++r) {
        const VecF dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[r], xq));
        acc[r][j] = ffma(wa[r], ffma(dot, dj, sj), acc[r][j]);
      }
    }
    at += kStepBytes;
  };
  const int64_t full = a.cols / kBytes;
  for (int64_t st = 0; st < full; ++st) step.template operator()<false>(st);
  if (full * kBytes < a.cols) step.template operator()<true>(full);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[j * a.ldy + n + r * spacing] = fsum(acc[r][j]);
}

// MB activation rows against the weight rows [n0, n1): R rows at a time, then one. The
// k-quants keep a factor vector per weight row and activation row besides the accumulators,
// so with 3 or 4 activation rows only 2 weight rows fit the 32 registers.
//
// At one activation row (batch-1 decode) the tiles take 2 rows, one from each half of [n0, n1):
// each half is then read in address order, one stream that the hardware prefetcher follows
// beside the requests 4 rows ahead, where 4 adjacent rows side by side are 4 streams that skip
// ahead a tile at a time, which it follows too late. AVX-512 EPYC, 2 threads, alternated runs:
// - q8_0: Gemv 5632 x 2048 from DRAM 60-64 GB/s against 40-51 for 4 adjacent rows (and 52-54
//   for one row at a time); batch-1 decode of the q8_0 file (bricks run), medians of 6 runs,
//   45.9 tok/s against 38.7 (one row at a time 40.9).
// - q4_0: Gemv 35-41 GB/s against 26-31; batch-1 decode median 63.8 tok/s against 50.1.
// - q4_K: Gemv 51-52 GB/s against 38-40, q6_K 51-57 against 49-50; batch-1 decode of the
//   q4_k_m file 50-56 tok/s against 45-47 (and 72 against 63-66 in a faster phase of memory).
// 4 rows from 4 quarters read about as fast in Gemv and slower end to end (q4_0 56.8, q4_k_m
// 47-50 and 71-73).
template <WeightType T, int MB>
BRICKS_AVX512_VNNI void register_rows(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  constexpr bool kSuper = T == WeightType::Q4_K || T == WeightType::Q5_K || T == WeightType::Q6_K;
  constexpr int R = kSuper && MB > 2 ? 2 : 4;
  register_tiles<R, MB == 1>(n0, n1, [&]<int Rows>(int64_t n, int64_t spacing) BRICKS_AVX512_VNNI {
    if constexpr (kSuper) {
      super_tile<T, Rows, MB>(a, n, spacing);
    } else {
      direct_tile<T, Rows, MB>(a, n, spacing);
    }
  });
}

// From 5 to kGroupedMaxRows activation rows, q4_K and q5_K take the register kernels
// kDirectMaxRows rows at a time, over panels of kPanelRows weight rows that the later groups
// read from L1. Batched decode of 8 sequences of a q4_k_m file ran 30 % faster so than on the
// many-row kernels, whose unpacking of the next rows waited for memory behind two tiles;
// from 12 rows on, and for the other types, the many-row kernels were as fast or faster.
template <WeightType T>
constexpr int64_t kGroupedMaxRows = T == WeightType::Q4_K || T == WeightType::Q5_K ? 8 : 4;
constexpr int64_t kPanelRows = 16;

// Decoding in registers up to kGroupedMaxRows activation rows, the many-row kernels above.
template <WeightType T>
BRICKS_AVX512_VNNI void direct_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  static_assert(kDirectMaxRows == 4);
  if (a.m > kDirectMaxRows && a.m <= kGroupedMaxRows<T>) {
    return over_row_groups(a, n0, n1, kPanelRows, kDirectMaxRows, direct_gemv<T>);
  }
  switch (a.m) {
    case 1:
      return register_rows<T, 1>(a, n0, n1);
    case 2:
      return register_rows<T, 2>(a, n0, n1);
    case 3:
      return register_rows<T, 3>(a, n0, n1);
    case 4:
      return register_rows<T, 4>(a, n0, n1);
    default:
      if constexpr (T == WeightType::Q4_K || T == WeightType::Q5_K || T == WeightType::Q6_K) {
        return quant_rows_avx512_vnni(T)(a, n0, n1);
      } else {
        return quant_rows_q8_avx512_vnni(T)(a, n0, n1);
      }
  }
}

}  // namespace

QuantGemvFn quant_gemv_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return direct_gemv<WeightType::Q8_0>;
    case WeightType::Q4_0:
      return direct_gemv<WeightType::Q4_0>;
    case WeightType::Q4_K:
      return direct_gemv<WeightType::Q4_K>;
    case WeightType::Q5_K:
      return direct_gemv<WeightType::Q5_K>;
    case WeightType::Q6_K:
      return direct_gemv<WeightType::Q6_K>;
    case WeightType::Q4_1:
      return quant_gemv<WeightType::Q4_1>;
    case WeightType::Q5_0:
      return quant_gemv<WeightType::Q5_0>;
    case WeightType::Q5_1:
      return quant_gemv<WeightType::Q5_1>;
    case WeightType::F32:
    case WeightType::F16:
    case WeightType::BF16:
      break;
  }
  return nullptr;
}

}  // namespace bricks::cpu::detail
