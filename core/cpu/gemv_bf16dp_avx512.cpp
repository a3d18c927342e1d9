// AVX512_BF16 GEMV for bf16 and f16 weights in bf16 compute: vdpbf16ps multiplies 32 bf16
// pairs per instruction into 16 f32 sums, twice the multiply-adds of an f32 FMA. bf16 weights
// are read as they are stored; f16 weights are converted to bf16 in registers as they are read
// (see f16_group). The activations come in as bf16 bits (GemvArgs::x_bf16), rounded once per
// forward. Everything in this file carries a target attribute and internal linkage.
//
// A tile is 4 weight rows times up to 4 activation rows (16 accumulators of partial sums, 8
// loads per 16 dot products), 3 weight rows times up to 8 for 5 to 8 activation rows
// (kWideActs), or 6 weight rows times 4 from 9 rows on (kTallRows). (2 weight rows times 8
// activation rows ran 200-240 GFLOP/s at 8-32 rows against the 4 x 4 tiles' 255-387, bench_kernels
// Crossover, AVX-512 EPYC.) Partial-sum vectors are folded 16 at a time into one vector of 16 sums
// by four rounds of shuffles and adds (reduce16) instead of 16 horizontal sums.
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/gemv_kernels.h"

#define BRICKS_AVX512BF16 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma")))

namespace bricks::cpu::detail {
namespace {

// Tile shapes: 4 weight rows times 4 activation rows, except from 5 to 8 activation rows: 3
// weight rows times 8 (24 accumulators, 11 loads per 24 dot products), one tile per row group,
// which reads the weights from memory while it computes all their products. At 8 rows that ran
// 252-305 GFLOP/s against 160-230 for two 4 x 4 tiles (Gemv 5632 x 2048, f16 and bf16 weights,
// 2 threads); at 16 rows, two 3 x 8 tiles ran 220-261 against 263-335 for four 4 x 4.
//
// From 9 rows on the activation rows no longer fit L1 beside the weights (16 rows of 2048
// columns are 64 KiB), so every tile but the first streams its activation lines from L2. Tiles
// of 6 weight rows times 4 activation rows (24 accumulators, 10 loads per 24 dot products) load
// each of those lines for 6 weight rows instead of 4. Gemv 5632 x 2048 at 16 rows, 2 threads,
// AVX-512 EPYC, old and new binaries alternated, medians of 6 runs: bf16 weights 429 GFLOP/s
// against 389, f16 312 against 283; 32 rows (Crossover) f16 462 against 405, bf16 577 against 493.
// Tiles of 8 weight rows times 2 did not help (326-353 and 192-194 GFLOP/s at 16 rows).
constexpr int kSmallActs = 4;
constexpr int kWideActs = 8;
constexpr int kTallRows = 6;

// Whether m activation rows take the 3 x kWideActs tiles.
constexpr bool wide_tiles(int64_t m) { return m > kSmallActs && m <= kWideActs; }

BRICKS_AVX512BF16 inline __mmask32 first32(int64_t n) {
  return n >= 32 ? ~__mmask32{0}
                 : static_cast<__mmask32>((uint64_t{1} << std::max<int64_t>(n, 0)) - 1);
}

// 32 16-bit values starting at p (`count` of them, the rest zero).
BRICKS_AVX512BF16 inline __m512i bits32(const uint16_t* p, int64_t count) {
  return _mm512_maskz_loadu_epi16(first32(count), p);
}

// The same, as bf16.
BRICKS_AVX512BF16 inline __m512bh load32(const uint16_t* p, int64_t count) {
  return (__m512bh)bits32(p, count);
}

// Lane p of reduce16's result holds the sum of v[kLane[p]] (an involution, so the sum of v[j]
// is in lane kLane[j]).
constexpr int kLane[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};

// Sums of the 16 lanes of each v[j]: halves of 256, then of 128, then pairs, then singles,
// each round adding two shuffles of two vectors into one.
BRICKS_AVX512BF16 inline __m512 reduce16(const __m512* v) {
  __m512 s[8], t[4], u[2];
  for (int i = 0; i < 8; ++i) {
    s[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[i], v[i + 8], 0x44),
                         _mm512_shuffle_f32x4(v[i], v[i + 8], 0xee));
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(s[i], s[i + 4], 0x88),
                         _mm512_shuffle_f32x4(s[i], s[i + 4], 0xdd));
  }
  for (int i = 0; i < 2; ++i) {
    u[i] = _mm512_add_ps(_mm512_shuffle_ps(t[i], t[i + 2], 0x44),
                         _mm512_shuffle_ps(t[i], t[i + 2], 0xee));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], 0x88), _mm512_shuffle_ps(u[0], u[1], 0xdd));
}

// Where a tile's weight rows come from.
enum class Src {
  Bf16,     // bf16 rows, read as stored
  F16,      // f16 rows, converted to bf16 in registers: vcvtph2ps is exact, vcvtne2ps2bf16
            // rounds to nearest even, as the converted panels of the oneDNN path do
  F16Keep,  // as F16, also storing the converted rows for the group's other tiles
};

// A tile's weight rows: row r at w0 + r * stride bytes, in the type `Src` says; for Src::F16Keep,
// `keep` receives row r's bf16 values at keep + r * keep_stride (padded to 32 columns).
struct Rows {
  const char* w0;
  size_t stride;
  uint16_t* keep = nullptr;
  int64_t keep_stride = 0;
};

// 32 columns (count of them, the rest zero) of a weight row from k, as bf16; for
// Src::F16Keep also stored at keep + k.
template <Src S>
BRICKS_AVX512BF16 inline __m512bh weights32(const uint16_t* row, uint16_t* keep, int64_t k,
                                            int64_t count) {
  if constexpr (S == Src::Bf16) {
    return load32(row + k, count);
  } else {
    const __m512i h = bits32(row + k, count);
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1)),
                                           _mm512_cvtph_ps(_mm512_castsi512_si256(h)));
    if constexpr (S == Src::F16Keep) _mm512_storeu_si512(keep + k, (__m512i)v);
    return v;
  }
}

// Columns k .. k + count (count <= 32) of R weight rows times A activation rows into acc.
// The loops are unrolled so that the accumulators stay in registers.
template <Src S, int R, int A>
BRICKS_AVX512BF16 inline void step(__m512 (&acc)[A][R], const uint16_t* const (&w)[R],
                                   uint16_t* const (&keep)[R], const uint16_t* const (&x)[A],
                                   int64_t k, int64_t count) {
  __m512bh wv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wv[r] = weights32<S>(w[r], keep[r], k, count);
#pragma GCC unroll 8
  for (int i = 0; i < A; ++i) {
    const __m512bh xv = load32(x[i] + k, count);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_dpbf16_ps(acc[i][r], wv[r], xv);
  }
}

// R weight rows times A activation rows from i0, over all columns, into outputs n .. n + R.
// With `Ahead` (the first tile of a row group) it also asks for the next R weight rows, one
// line of each per 32 columns, so that they arrive while the group's other tiles run on
// this one's rows. The first tile still takes longest (at 16 rows in a decode step of 6 x 4
// tiles, 34 % of the run against 22 % for the three others together): it waits on the weights.
// Sharing the requests out over all tiles of the group, into L1 or L2, or two groups ahead,
// measured no faster (with the 6 x 4 tiles, a share of the next group's bytes per tile, 2 lines
// a step: 213-238 GFLOP/s against 238-308 for f16 at 16 rows).
template <Src S, int R, int A, bool Ahead>
BRICKS_AVX512BF16 void tile(const GemvArgs& a, const Rows& rows, int64_t n, int64_t i0) {
  const uint16_t* w[R];
  uint16_t* keep[R];
  for (int r = 0; r < R; ++r) {
    w[r] = reinterpret_cast<const uint16_t*>(rows.w0 + r * rows.stride);
    keep[r] = rows.keep + r * rows.keep_stride;
  }
  const uint16_t* x[A];
  for (int i = 0; i < A; ++i) x[i] = a.x_bf16 + (i0 + i) * a.cols;
  __m512 acc[A][R];
  for (int i = 0; i < A; ++i) {
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  }
  int64_t k = 0;
  for (; k + 32 <= a.cols; k += 32) {
    if constexpr (Ahead) {
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w[r] + k) + R * rows.stride, _MM_HINT_T0);
      }
    }
    step<S, R, A>(acc, w, keep, x, k, 32);
  }
  if (k < a.cols) step<S, R, A>(acc, w, keep, x, k, a.cols - k);
  // The sums, 16 accumulators at a time.
  constexpr int kAcc = A * R;
#pragma GCC unroll 2
  for (int base = 0; base < kAcc; base += 16) {
    __m512 v[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      const int c = base + j;
      v[j] = c < kAcc ? acc[c / R][c % R] : _mm512_setzero_ps();
    }
    alignas(64) float sums[16];
    _mm512_store_ps(sums, reduce16(v));
    for (int j = 0; j < 16 && base + j < kAcc; ++j) {
      const int c = base + j;
      a.y[(i0 + c / R) * a.ldy + n + c % R] = sums[kLane[j]];
    }
  }
}

// tile<S, R, count, Ahead> for 1 <= count <= A.
template <Src S, int R, bool Ahead, int A>
BRICKS_AVX512BF16 void tile_upto(const GemvArgs& a, const Rows& w, int64_t n, int64_t i0,
                                 int64_t count) {
  if constexpr (A > 1) {
    if (count < A) return tile_upto<S, R, Ahead, A - 1>(a, w, n, i0, count);
  }
  tile<S, R, A, Ahead>(a, w, n, i0);
}

// Every activation row against the R weight rows from n. The first tile reads them from
// memory (as `First`); the others read `rest`: the same rows, or their bf16 copy.
template <Src First, int R, int A>
BRICKS_AVX512BF16 void row_group(const GemvArgs& a, const Rows& first, const Rows& rest,
                                 int64_t n) {
  tile_upto<First, R, true, A>(a, first, n, 0, std::min<int64_t>(a.m, A));
  for (int64_t i0 = A; i0 < a.m; i0 += A) {
    tile_upto<Src::Bf16, R, false, A>(a, rest, n, i0, std::min<int64_t>(a.m - i0, A));
  }
}

template <int R, int A>
BRICKS_AVX512BF16 void bf16_group(const GemvArgs& a, int64_t n) {
  const Rows w{a.w + n * a.row_bytes, a.row_bytes};
  row_group<Src::Bf16, R, A>(a, w, w, n);
}

// group.template operator()<R>(n) over [n0, n1) in groups of R rows, the rest in groups of
// R / 2, R / 4, ... 1.
template <int R, class Group>
BRICKS_AVX512BF16 void row_groups(int64_t n0, int64_t n1, const Group& group) {
  int64_t n = n0;
  for (; n + R <= n1; n += R) group.template operator()<R>(n);
  if constexpr (R > 1) {
    if (n < n1) row_groups<R / 2>(n, n1, group);
  }
}

template <int R, int A>
BRICKS_AVX512BF16 void bf16_rows(const GemvArgs& a, int64_t n0, int64_t n1) {
  row_groups<R>(n0, n1, [&]<int Rows>(int64_t n) BRICKS_AVX512BF16 { bf16_group<Rows, A>(a, n); });
}

BRICKS_AVX512BF16 void gemv_bf16dp(const GemvArgs& a, int64_t n0, int64_t n1) {
  if (a.m > kWideActs) return bf16_rows<kTallRows, kSmallActs>(a, n0, n1);
  if (wide_tiles(a.m)) return bf16_rows<3, kWideActs>(a, n0, n1);
  bf16_rows<4, kSmallActs>(a, n0, n1);
}

// f16 weights: the first tile of a group converts its rows in registers and, when more tiles
// follow, stores them into a per-thread buffer (R x cols values: 44 KiB for 5632 columns at
// R = 4, 66 KiB at R = 6) from which the other tiles read them as bf16. Each weight is converted
// once per pass, 4 instructions per 32 weights against m dot products.
template <int R, int A>
BRICKS_AVX512BF16 void f16_group(const GemvArgs& a, int64_t n, uint16_t* buf, int64_t stride) {
  const Rows copy{reinterpret_cast<const char*>(buf), static_cast<size_t>(stride) * 2};
  Rows w{a.w + n * a.row_bytes, a.row_bytes};
  if (a.m <= A) return row_group<Src::F16, R, A>(a, w, copy, n);
  w.keep = buf;
  w.keep_stride = stride;
  row_group<Src::F16Keep, R, A>(a, w, copy, n);
}

template <int R, int A>
BRICKS_AVX512BF16 void f16_rows(const GemvArgs& a, int64_t n0, int64_t n1) {
  const int64_t stride = (a.cols + 31) / 32 * 32;
  thread_local std::vector<uint16_t> rows;
  if (rows.size() < static_cast<size_t>(R * stride)) rows.resize(R * stride);
  uint16_t* buf = rows.data();
  row_groups<R>(n0, n1, [&]<int Rows>(int64_t n) BRICKS_AVX512BF16 {
    f16_group<Rows, A>(a, n, buf, stride);
  });
}

BRICKS_AVX512BF16 void gemv_f16dp(const GemvArgs& a, int64_t n0, int64_t n1) {
  if (a.m > kWideActs) return f16_rows<kTallRows, kSmallActs>(a, n0, n1);
  if (wide_tiles(a.m)) return f16_rows<3, kWideActs>(a, n0, n1);
  f16_rows<4, kSmallActs>(a, n0, n1);
}

}  // namespace

GemvFn gemv_bf16dp_avx512(WeightType t) {
  switch (t) {
    case WeightType::BF16:
      return gemv_bf16dp;
    case WeightType::F16:
      return gemv_f16dp;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
