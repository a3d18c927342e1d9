// AVX-512F kernels (16 floats a vector, masked tails, hardware half conversion).
// Only the functions carry the target attribute; select_kernels checks the CPU first.
// GCC 12's avx512fintrin.h passes _mm512_undefined_ps() as the unused source of unmasked
// operations (cvtph, max, min, roundscale, scalef, extract), which trips -Wmaybe-uninitialized
// once inlined, as -Wuninitialized where the inlined value is certain (GCC bug 105593). The
// values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "bricks/half.hpp"
#include "bricks/prefetch.hpp"
#include "bricks/vector_exp.hpp"
#include "kernels.h"

namespace bricks_cpu_paged {
namespace avx512 {

#define BRICKS_KERNEL_TARGET __attribute__((target("avx512f,fma,f16c")))

BRICKS_KERNEL_TARGET inline __mmask16 tail_mask(int32_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

// Sixteen vectors of partial sums to one vector of their totals, total j in lane j: pairs of
// vectors are interleaved and added, halving the partials per key at each of four steps
// (45 operations, where sixteen separate reductions take about 130).
BRICKS_KERNEL_TARGET inline __m512 sum16(const __m512* a) {
  __m512 t[8], u[4];
  for (int i = 0; i < 8; ++i) {
    // Per 128-bit lane: [x0+x2, y0+y2, x1+x3, y1+y3] for x = a[2i], y = a[2i + 1].
    t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]),
                         _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  }
  for (int i = 0; i < 4; ++i) {
    // Per 128-bit lane: the lane's totals of keys 4i .. 4i + 3.
    const __m512d x = _mm512_castps_pd(t[2 * i]), y = _mm512_castps_pd(t[2 * i + 1]);
    u[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  // Then the four 128-bit lanes of each u[i] are added: two steps of lane shuffles.
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  const __m512 v = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], kEven),
                                 _mm512_shuffle_f32x4(u[0], u[1], kOdd));
  const __m512 w = _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], kEven),
                                 _mm512_shuffle_f32x4(u[2], u[3], kOdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(v, w, kEven), _mm512_shuffle_f32x4(v, w, kOdd));
}

// Dots of q with up to sixteen rows: one accumulator per row (sixteen independent FMA chains,
// q loaded once per sixteen values), reduced together by sum16. Rows past k repeat row 0
// and their lanes are not stored.
BRICKS_KERNEL_TARGET inline void dot_rows(const float* q, const float* const* rows, int32_t k,
                                          int32_t n, float* out) {
  if (k <= 0) return;
  const float* r[16];
  for (int32_t j = 0; j < 16; ++j) r[j] = rows[j < k ? j : 0];
  __m512 a[16];
  for (int j = 0; j < 16; ++j) a[j] = _mm512_setzero_ps();
  for (int32_t d = 0; d < n; d += 16) {
    const __mmask16 mask = n - d >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - d);
    const __m512 qv = _mm512_maskz_loadu_ps(mask, q + d);
    for (int j = 0; j < 16; ++j) {
      a[j] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(mask, r[j] + d), a[j]);
    }
  }
  _mm512_mask_storeu_ps(out, tail_mask(k), sum16(a));
}

BRICKS_KERNEL_TARGET inline void scale(float* x, float a, int32_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), va));
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), va));
  }
}

// Four independent accumulators per step so the FMA chains over the keys overlap.
BRICKS_KERNEL_TARGET inline void axpy_block(float* acc, const float* p, const float* const* rows,
                                            int32_t k, int32_t n) {
  int32_t d = 0;
  for (; d + 64 <= n; d += 64) {
    __m512 a0 = _mm512_loadu_ps(acc + d), a1 = _mm512_loadu_ps(acc + d + 16);
    __m512 a2 = _mm512_loadu_ps(acc + d + 32), a3 = _mm512_loadu_ps(acc + d + 48);
    for (int32_t j = 0; j < k; ++j) {
      const __m512 w = _mm512_set1_ps(p[j]);
      const float* r = rows[j] + d;
      a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(r), a0);
      a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(r + 16), a1);
      a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(r + 32), a2);
      a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(r + 48), a3);
    }
    _mm512_storeu_ps(acc + d, a0);
    _mm512_storeu_ps(acc + d + 16, a1);
    _mm512_storeu_ps(acc + d + 32, a2);
    _mm512_storeu_ps(acc + d + 48, a3);
  }
  for (; d < n; d += 16) {
    const __mmask16 mask = n - d >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - d);
    __m512 a = _mm512_maskz_loadu_ps(mask, acc + d);
    for (int32_t j = 0; j < k; ++j) {
      a = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(mask, rows[j] + d), a);
    }
    _mm512_mask_storeu_ps(acc + d, mask, a);
  }
}

BRICKS_KERNEL_TARGET inline __m512 exp16(__m512 x) { return bricks::exp_avx512(x); }

BRICKS_KERNEL_TARGET inline void exp_block(float* x, int32_t n) {
  const __mmask16 mask = n >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n);
  _mm512_mask_storeu_ps(x, mask, exp16(_mm512_maskz_loadu_ps(mask, x)));
}

#define BRICKS_KERNEL_BLOCK_OPS
BRICKS_KERNEL_TARGET inline float max_block(const float* x, int32_t n) {
  const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-std::numeric_limits<float>::infinity()),
                                        tail_mask(n), x);
  return _mm512_reduce_max_ps(v);
}

BRICKS_KERNEL_TARGET inline float exp_shift_sum(float* x, int32_t n, float shift) {
  const __mmask16 mask = tail_mask(n);
  const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x), _mm512_set1_ps(shift)));
  _mm512_mask_storeu_ps(x, mask, e);
  return _mm512_mask_reduce_add_ps(mask, e);
}

BRICKS_KERNEL_TARGET inline void f16_row(const uint16_t* src, float* dst, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = bricks::f16_to_f32(src[i]);
}

#include "tile_kernel.inc"

// attend() with sixteen query vectors in the lanes of a register, for tiles of at least
// eight: Q K^T and P V become broadcast FMAs (four per query-key pair each) with no
// horizontal sums, and the online softmax runs on sixteen queries at once (lanes as
// LaneTile lays them out, tile_kernel.inc).
BRICKS_KERNEL_TARGET void attend_lanes(const Geometry& g, const SeqView& seq, int32_t kv_head,
                                       int32_t row_begin, int32_t row_end, int32_t key_begin,
                                       int32_t key_end, const float* q, const ItemOutput& out,
                                       Scratch scratch) {
  LaneTile<16> t(g, seq, kv_head, row_begin, row_end, q, scratch);
  const int32_t dim = t.dim;
  const int32_t lane_groups = t.lane_groups;
  const int64_t plane = t.plane;
  float* const kbuf = t.kbuf;
  float* const vbuf = t.vbuf;
  float* const qt = t.qt;
  float* const acct = t.acct;
  float* const m = t.m;
  float* const l = t.l;
  const float* const last = t.last;

  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const int32_t end = g.causal ? std::min(key_end, t.first_position + row_end) : key_end;
  // The next block's keys and values are asked for a slice per sixteen dimensions of the
  // first lane group's Q K^T and P V.
  BlockWalk walk(g, seq, kv_head, key_begin, end);
  const int32_t slices = (dim + 15) / 16;
  for (int32_t j0 = key_begin; j0 < end; j0 += kKeyBlock) {
    const int32_t n = std::min(kKeyBlock, end - j0);
    const int64_t* at = walk.enter(j0);
    t.load_block(g, g.k_pool, at, n, kbuf);
    t.load_block(g, g.v_pool, at, n, vbuf);
    const __mmask16 in_block = tail_mask(n);
    for (int32_t b = 0; b < lane_groups; ++b) {
      const float* qb = qt + b * plane;
      float* ab = acct + b * plane;
      const __m512 last_b = _mm512_loadu_ps(last + b * 16);
      // s[j] = scaled q . k_j for the sixteen lanes; keys a lane may not see are -inf.
      __m512 s[kKeyBlock];
      for (int32_t j = 0; j < kKeyBlock; ++j) s[j] = _mm512_setzero_ps();
      for (int32_t d0 = 0; d0 < dim; d0 += 16) {
        if (b == 0) walk.request(g.k_pool, d0 / 16, slices);
        for (int32_t d = d0; d < std::min(dim, d0 + 16); ++d) {
          const __m512 qd = _mm512_loadu_ps(qb + d * 16);
          for (int32_t j = 0; j < kKeyBlock; ++j) {
            s[j] = _mm512_fmadd_ps(qd, _mm512_set1_ps(kbuf[int64_t{j} * dim + d]), s[j]);
          }
        }
      }
      __mmask16 seen[kKeyBlock];
      __m512 block_max = neg_inf;
      for (int32_t j = 0; j < kKeyBlock; ++j) {
        const __mmask16 key = (in_block >> j) & 1 ? static_cast<__mmask16>(0xffff) : 0;
        seen[j] = _mm512_mask_cmp_ps_mask(key, _mm512_set1_ps(static_cast<float>(j0 + j)), last_b,
                                          _CMP_LE_OQ);
        block_max = _mm512_mask_max_ps(block_max, seen[j], block_max, s[j]);
      }
      const __m512 m_old = _mm512_loadu_ps(m + b * 16);
      const __m512 m_new = _mm512_max_ps(m_old, block_max);
      // A lane that has seen no key yet keeps m = -inf; it subtracts 0 instead, and its
      // sums stay zero because every p of it is masked to zero.
      const __mmask16 any = _mm512_cmp_ps_mask(m_new, neg_inf, _CMP_NEQ_OQ);
      const __m512 shift = _mm512_maskz_mov_ps(any, m_new);
      const __m512 alpha = exp16(_mm512_sub_ps(m_old, shift));
      __m512 sum = _mm512_setzero_ps();
      for (int32_t j = 0; j < kKeyBlock; ++j) {
        s[j] = _mm512_maskz_mov_ps(seen[j], exp16(_mm512_sub_ps(s[j], shift)));
        sum = _mm512_add_ps(sum, s[j]);
      }
      _mm512_storeu_ps(m + b * 16, m_new);
      _mm512_storeu_ps(l + b * 16, _mm512_fmadd_ps(_mm512_loadu_ps(l + b * 16), alpha, sum));
      // acc = acc * alpha + sum_j p_j v_j, one dimension (sixteen lanes) at a time.
      for (int32_t d0 = 0; d0 < dim; d0 += 16) {
        if (b == 0) walk.request(g.v_pool, d0 / 16, slices);
        for (int32_t d = d0; d < std::min(dim, d0 + 16); ++d) {
          __m512 a = _mm512_mul_ps(_mm512_loadu_ps(ab + d * 16), alpha);
          for (int32_t j = 0; j < kKeyBlock; ++j) {
            a = _mm512_fmadd_ps(s[j], _mm512_set1_ps(vbuf[int64_t{j} * dim + d]), a);
          }
          _mm512_storeu_ps(ab + d * 16, a);
        }
      }
    }
  }

  t.finish(out);
}

// The registers and operations grouped_kernel.inc is written in.
struct GroupOps {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr int32_t kLanes = 16;
  BRICKS_KERNEL_TARGET static Vec zero() { return _mm512_setzero_ps(); }
  BRICKS_KERNEL_TARGET static Vec set1(float x) { return _mm512_set1_ps(x); }
  BRICKS_KERNEL_TARGET static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  BRICKS_KERNEL_TARGET static void store(float* p, Vec x) { _mm512_storeu_ps(p, x); }
  BRICKS_KERNEL_TARGET static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  BRICKS_KERNEL_TARGET static Vec exp(Vec x) { return exp16(x); }
  BRICKS_KERNEL_TARGET static Mask le(Vec a, Vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  // max(acc, x) in the lanes of `m`, acc elsewhere.
  BRICKS_KERNEL_TARGET static Vec max_where(Vec acc, Mask m, Vec x) {
    return _mm512_mask_max_ps(acc, m, acc, x);
  }
  BRICKS_KERNEL_TARGET static Vec zero_where_not(Mask m, Vec x) {
    return _mm512_maskz_mov_ps(m, x);
  }
  // x, with 0 in the lanes that hold -inf.
  BRICKS_KERNEL_TARGET static Vec finite_or_zero(Vec x) {
    return _mm512_maskz_mov_ps(
        _mm512_cmp_ps_mask(x, _mm512_set1_ps(-std::numeric_limits<float>::infinity()), _CMP_NEQ_OQ),
        x);
  }
  BRICKS_KERNEL_TARGET static Vec swap_pairs(Vec x) {
    return _mm512_permute_ps(x, _MM_SHUFFLE(2, 3, 0, 1));
  }
  BRICKS_KERNEL_TARGET static Vec swap_halves(Vec x) {
    return _mm512_permute_ps(x, _MM_SHUFFLE(1, 0, 3, 2));
  }
  // kLanes values of a pool row from element `at`, as floats.
  template <bool kF16>
  BRICKS_KERNEL_TARGET static Vec load_row(const void* pool, int64_t at) {
    if constexpr (kF16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(pool) + at)));
    } else {
      return _mm512_loadu_ps(static_cast<const float*>(pool) + at);
    }
  }
  // kKeys floats from p repeated over the lanes.
  template <int32_t kKeys>
  BRICKS_KERNEL_TARGET static Vec broadcast_keys(const float* p) {
    if constexpr (kKeys == 2) {
      double pair;
      std::memcpy(&pair, p, sizeof pair);
      return _mm512_castpd_ps(_mm512_set1_pd(pair));
    } else {
      return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
    }
  }
  // kLanes vectors to one: lane t = the sum of a[t]'s lanes.
  BRICKS_KERNEL_TARGET static Vec sum_each(const Vec* a) { return sum16(a); }
  BRICKS_KERNEL_TARGET static float reduce_max(Vec x) { return _mm512_reduce_max_ps(x); }
  BRICKS_KERNEL_TARGET static float reduce_add(Vec x) { return _mm512_reduce_add_ps(x); }
  // Per 128-bit lane: [a0 b0 a1 b1] and [a2 b2 a3 b3] of floats; then the same of pairs.
  BRICKS_KERNEL_TARGET static Vec unpacklo(Vec a, Vec b) { return _mm512_unpacklo_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec unpackhi(Vec a, Vec b) { return _mm512_unpackhi_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec unpacklo_pairs(Vec a, Vec b) {
    return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  }
  BRICKS_KERNEL_TARGET static Vec unpackhi_pairs(Vec a, Vec b) {
    return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
  }
};

#include "grouped_kernel.inc"
#include "one_vector_kernel.inc"

// After every kernel it chooses among.
#include "attend_best.inc"

#undef BRICKS_KERNEL_TARGET
#undef BRICKS_KERNEL_BLOCK_OPS

}  // namespace avx512

const KernelSet kAvx512Kernels = {"avx512", &avx512::attend_best, &avx512::attend_heads_best,
                                  &avx512::score};

}  // namespace bricks_cpu_paged
