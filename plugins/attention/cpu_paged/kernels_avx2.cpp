// AVX2 + FMA + F16C kernels. Only the functions carry the target attribute; the library is
// compiled for the baseline ISA and calls these only after select_kernels checked the CPU.
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
namespace avx2 {

#define BRICKS_KERNEL_TARGET __attribute__((target("avx2,fma,f16c")))

BRICKS_KERNEL_TARGET inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

BRICKS_KERNEL_TARGET inline float dot(const float* a, const float* b, int32_t n) {
  __m256 s0 = _mm256_setzero_ps();
  __m256 s1 = _mm256_setzero_ps();
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Dots of q with four rows at once: eight independent FMA chains hide the FMA latency
// that a single dot product waits on, and q is loaded once for the four.
BRICKS_KERNEL_TARGET inline void dot_rows(const float* q, const float* const* rows, int32_t k,
                                          int32_t n, float* out) {
  int32_t j = 0;
  for (; j + 4 <= k; j += 4) {
    const float* r0 = rows[j];
    const float* r1 = rows[j + 1];
    const float* r2 = rows[j + 2];
    const float* r3 = rows[j + 3];
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
    __m256 a3 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
    int32_t d = 0;
    for (; d + 16 <= n; d += 16) {
      const __m256 qa = _mm256_loadu_ps(q + d);
      const __m256 qb = _mm256_loadu_ps(q + d + 8);
      a0 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r0 + d), a0);
      a1 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r1 + d), a1);
      a2 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r2 + d), a2);
      a3 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r3 + d), a3);
      b0 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r0 + d + 8), b0);
      b1 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r1 + d + 8), b1);
      b2 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r2 + d + 8), b2);
      b3 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(r3 + d + 8), b3);
    }
    for (; d + 8 <= n; d += 8) {
      const __m256 qa = _mm256_loadu_ps(q + d);
      a0 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r0 + d), a0);
      a1 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r1 + d), a1);
      a2 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r2 + d), a2);
      a3 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(r3 + d), a3);
    }
    float s0 = hsum(_mm256_add_ps(a0, b0)), s1 = hsum(_mm256_add_ps(a1, b1));
    float s2 = hsum(_mm256_add_ps(a2, b2)), s3 = hsum(_mm256_add_ps(a3, b3));
    for (; d < n; ++d) {
      s0 += q[d] * r0[d];
      s1 += q[d] * r1[d];
      s2 += q[d] * r2[d];
      s3 += q[d] * r3[d];
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < k; ++j) out[j] = dot(q, rows[j], n);
}

BRICKS_KERNEL_TARGET inline void scale(float* x, float a, int32_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), va));
  for (; i < n; ++i) x[i] *= a;
}

// Eight independent accumulators (64 floats) per step so the FMA chains over the keys
// overlap; then four, then one.
BRICKS_KERNEL_TARGET inline void axpy_block(float* acc, const float* p, const float* const* rows,
                                            int32_t k, int32_t n) {
  int32_t d = 0;
  for (; d + 64 <= n; d += 64) {
    __m256 a[8];
    for (int u = 0; u < 8; ++u) a[u] = _mm256_loadu_ps(acc + d + 8 * u);
    for (int32_t j = 0; j < k; ++j) {
      const __m256 w = _mm256_set1_ps(p[j]);
      const float* r = rows[j] + d;
      for (int u = 0; u < 8; ++u) a[u] = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 8 * u), a[u]);
    }
    for (int u = 0; u < 8; ++u) _mm256_storeu_ps(acc + d + 8 * u, a[u]);
  }
  for (; d + 32 <= n; d += 32) {
    __m256 a0 = _mm256_loadu_ps(acc + d), a1 = _mm256_loadu_ps(acc + d + 8);
    __m256 a2 = _mm256_loadu_ps(acc + d + 16), a3 = _mm256_loadu_ps(acc + d + 24);
    for (int32_t j = 0; j < k; ++j) {
      const __m256 w = _mm256_set1_ps(p[j]);
      const float* r = rows[j] + d;
      a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r), a0);
      a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 8), a1);
      a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 16), a2);
      a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 24), a3);
    }
    _mm256_storeu_ps(acc + d, a0);
    _mm256_storeu_ps(acc + d + 8, a1);
    _mm256_storeu_ps(acc + d + 16, a2);
    _mm256_storeu_ps(acc + d + 24, a3);
  }
  for (; d + 8 <= n; d += 8) {
    __m256 a = _mm256_loadu_ps(acc + d);
    for (int32_t j = 0; j < k; ++j)
      a = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), _mm256_loadu_ps(rows[j] + d), a);
    _mm256_storeu_ps(acc + d, a);
  }
  for (; d < n; ++d) {
    for (int32_t j = 0; j < k; ++j) acc[d] += p[j] * rows[j][d];
  }
}

BRICKS_KERNEL_TARGET inline __m256 exp8(__m256 x) { return bricks::exp_avx2(x); }

BRICKS_KERNEL_TARGET inline void exp_block(float* x, int32_t n) {
  alignas(32) float tmp[16] = {};
  std::copy_n(x, n, tmp);
  _mm256_store_ps(tmp, exp8(_mm256_load_ps(tmp)));
  if (n > 8) _mm256_store_ps(tmp + 8, exp8(_mm256_load_ps(tmp + 8)));
  std::copy_n(tmp, n, x);
}

BRICKS_KERNEL_TARGET inline void f16_row(const uint16_t* src, float* dst, int32_t n) {
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = bricks::f16_to_f32(src[i]);
}

#include "tile_kernel.inc"

// attend() with eight query vectors in the lanes of a register, for tiles of at least eight,
// as attend_lanes in kernels_avx512.cpp; sixteen keys would take every register, so each
// half of a key block is one step of the online softmax.
BRICKS_KERNEL_TARGET void attend_lanes(const Geometry& g, const SeqView& seq, int32_t kv_head,
                                       int32_t row_begin, int32_t row_end, int32_t key_begin,
                                       int32_t key_end, const float* q, const ItemOutput& out,
                                       Scratch scratch) {
  constexpr int32_t kLanes = 8;
  LaneTile<kLanes> t(g, seq, kv_head, row_begin, row_end, q, scratch);
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

  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
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
    for (int32_t half = 0; half < n; half += kLanes) {
      const float* kh = kbuf + int64_t{half} * dim;
      const float* vh = vbuf + int64_t{half} * dim;
      for (int32_t b = 0; b < lane_groups; ++b) {
        const float* qb = qt + b * plane;
        float* ab = acct + b * plane;
        const __m256 last_b = _mm256_loadu_ps(last + b * kLanes);
        __m256 s[kLanes];
        for (int32_t j = 0; j < kLanes; ++j) s[j] = _mm256_setzero_ps();
        for (int32_t d0 = 0; d0 < dim; d0 += 16) {
          if (half == 0 && b == 0) walk.request(g.k_pool, d0 / 16, slices);
          for (int32_t d = d0; d < std::min(dim, d0 + 16); ++d) {
            const __m256 qd = _mm256_loadu_ps(qb + d * kLanes);
            for (int32_t j = 0; j < kLanes; ++j) {
              s[j] = _mm256_fmadd_ps(qd, _mm256_broadcast_ss(kh + int64_t{j} * dim + d), s[j]);
            }
          }
        }
        // seen[j]: all ones in the lanes that see key j0 + half + j (none past the block).
        __m256 seen[kLanes];
        __m256 block_max = neg_inf;
        for (int32_t j = 0; j < kLanes; ++j) {
          const float position = half + j < n ? static_cast<float>(j0 + half + j) : 2e30f;
          seen[j] = _mm256_cmp_ps(_mm256_set1_ps(position), last_b, _CMP_LE_OQ);
          block_max = _mm256_max_ps(block_max, _mm256_blendv_ps(neg_inf, s[j], seen[j]));
        }
        const __m256 m_old = _mm256_loadu_ps(m + b * kLanes);
        const __m256 m_new = _mm256_max_ps(m_old, block_max);
        // As in the AVX-512 kernel: a lane that has seen no key yet subtracts 0.
        const __m256 shift = _mm256_and_ps(_mm256_cmp_ps(m_new, neg_inf, _CMP_NEQ_OQ), m_new);
        const __m256 alpha = exp8(_mm256_sub_ps(m_old, shift));
        __m256 sum = _mm256_setzero_ps();
        for (int32_t j = 0; j < kLanes; ++j) {
          s[j] = _mm256_and_ps(seen[j], exp8(_mm256_sub_ps(s[j], shift)));
          sum = _mm256_add_ps(sum, s[j]);
        }
        _mm256_storeu_ps(m + b * kLanes, m_new);
        _mm256_storeu_ps(l + b * kLanes,
                         _mm256_fmadd_ps(_mm256_loadu_ps(l + b * kLanes), alpha, sum));
        for (int32_t d0 = 0; d0 < dim; d0 += 16) {
          if (half == 0 && b == 0) walk.request(g.v_pool, d0 / 16, slices);
          for (int32_t d = d0; d < std::min(dim, d0 + 16); ++d) {
            __m256 a = _mm256_mul_ps(_mm256_loadu_ps(ab + d * kLanes), alpha);
            for (int32_t j = 0; j < kLanes; ++j) {
              a = _mm256_fmadd_ps(s[j], _mm256_broadcast_ss(vh + int64_t{j} * dim + d), a);
            }
            _mm256_storeu_ps(ab + d * kLanes, a);
          }
        }
      }
    }
  }

  t.finish(out);
}

// The registers and operations grouped_kernel.inc is written in; masks are vectors of all-ones
// or zero lanes.
struct GroupOps {
  using Vec = __m256;
  using Mask = __m256;
  static constexpr int32_t kLanes = 8;
  BRICKS_KERNEL_TARGET static Vec zero() { return _mm256_setzero_ps(); }
  BRICKS_KERNEL_TARGET static Vec set1(float x) { return _mm256_set1_ps(x); }
  BRICKS_KERNEL_TARGET static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  BRICKS_KERNEL_TARGET static void store(float* p, Vec x) { _mm256_storeu_ps(p, x); }
  BRICKS_KERNEL_TARGET static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  BRICKS_KERNEL_TARGET static Vec exp(Vec x) { return exp8(x); }
  BRICKS_KERNEL_TARGET static Mask le(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  // max(acc, x) in the lanes of `m`, acc elsewhere.
  BRICKS_KERNEL_TARGET static Vec max_where(Vec acc, Mask m, Vec x) {
    return _mm256_blendv_ps(acc, _mm256_max_ps(acc, x), m);
  }
  BRICKS_KERNEL_TARGET static Vec zero_where_not(Mask m, Vec x) { return _mm256_and_ps(m, x); }
  // x, with 0 in the lanes that hold -inf.
  BRICKS_KERNEL_TARGET static Vec finite_or_zero(Vec x) {
    return _mm256_and_ps(
        _mm256_cmp_ps(x, _mm256_set1_ps(-std::numeric_limits<float>::infinity()), _CMP_NEQ_OQ), x);
  }
  BRICKS_KERNEL_TARGET static Vec swap_pairs(Vec x) {
    return _mm256_permute_ps(x, _MM_SHUFFLE(2, 3, 0, 1));
  }
  BRICKS_KERNEL_TARGET static Vec swap_halves(Vec x) {
    return _mm256_permute_ps(x, _MM_SHUFFLE(1, 0, 3, 2));
  }
  // kLanes values of a pool row from element `at`, as floats.
  template <bool kF16>
  BRICKS_KERNEL_TARGET static Vec load_row(const void* pool, int64_t at) {
    if constexpr (kF16) {
      return _mm256_cvtph_ps(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(pool) + at)));
    } else {
      return _mm256_loadu_ps(static_cast<const float*>(pool) + at);
    }
  }
  // kKeys floats from p repeated over the lanes.
  template <int32_t kKeys>
  BRICKS_KERNEL_TARGET static Vec broadcast_keys(const float* p) {
    if constexpr (kKeys == 2) {
      double pair;
      std::memcpy(&pair, p, sizeof pair);
      return _mm256_castpd_ps(_mm256_set1_pd(pair));
    } else {
      return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
    }
  }
  // kLanes vectors to one: lane t = the sum of a[t]'s lanes. Two rounds of pairwise adds leave
  // sums of a[0..3] and a[4..7] in each 128-bit half; the halves are then added.
  BRICKS_KERNEL_TARGET static Vec sum_each(const Vec* a) {
    const Vec q0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const Vec q1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                         _mm256_permute2f128_ps(q0, q1, 0x31));
  }
  BRICKS_KERNEL_TARGET static float reduce_max(Vec x) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
  }
  BRICKS_KERNEL_TARGET static float reduce_add(Vec x) { return hsum(x); }
  // Per 128-bit lane: [a0 b0 a1 b1] and [a2 b2 a3 b3] of floats; then the same of pairs.
  BRICKS_KERNEL_TARGET static Vec unpacklo(Vec a, Vec b) { return _mm256_unpacklo_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec unpackhi(Vec a, Vec b) { return _mm256_unpackhi_ps(a, b); }
  BRICKS_KERNEL_TARGET static Vec unpacklo_pairs(Vec a, Vec b) {
    return _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)));
  }
  BRICKS_KERNEL_TARGET static Vec unpackhi_pairs(Vec a, Vec b) {
    return _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)));
  }
};

#include "grouped_kernel.inc"
#include "one_vector_kernel.inc"

// After every kernel it chooses among.
#include "attend_best.inc"

#undef BRICKS_KERNEL_TARGET

}  // namespace avx2

const KernelSet kAvx2Kernels = {"avx2", &avx2::attend_best, &avx2::attend_heads_best, &avx2::score};

}  // namespace bricks_cpu_paged
