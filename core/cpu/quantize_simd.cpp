// The activation quantizer of quant_dot.h in AVX2 and AVX-512, one block of 32 values at a
// time. Each gives the bytes and floats of the portable quantize_row_portable exactly: the
// same float operations in the same order per value (a multiply, then an add of +-0.5, then
// a clamp and truncation), the block maximum taken over finite values only, and any NaN or
// infinity in a block making its scale NaN. The file is compiled without floating-point
// contraction, so the multiply and the add are never fused into a differently rounded FMA.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu/quant_dot.h"

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define BRICKS_QUANTIZE_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BRICKS_QUANTIZE_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

static_assert(kQuantBlock == 32 && kQuantLane == 4, "the kernels hold a block in 32 floats");

// The block's scale from its largest magnitude and whether it holds NaN or infinity, as the
// portable quantizer computes it (NaN in the second case, whatever the maximum read).
inline float block_scale(float amax, bool nonfinite) {
  return amax / 127.0f + (nonfinite ? std::numeric_limits<float>::quiet_NaN() : 0.0f);
}
inline float inverse(float scale) { return scale > 0.0f ? 1.0f / scale : 0.0f; }

// d and s of the block's 8 lanes from its 32 bytes q.
BRICKS_QUANTIZE_AVX2 inline void lane_sums(__m256i q8, float scale, float* d, float* s) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q8);
  const __m256i fours = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  const __m256 vs = _mm256_set1_ps(scale);
  _mm256_storeu_ps(d, vs);
  _mm256_storeu_ps(s, _mm256_mul_ps(vs, _mm256_cvtepi32_ps(fours)));
}

BRICKS_QUANTIZE_AVX512 __m512i round_clamp512(__m512 x, __m512 inv) {
  const __m512 v = _mm512_mul_ps(x, inv);
  const __mmask16 up = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ);
  const __m512 half = _mm512_mask_blend_ps(up, _mm512_set1_ps(-0.5f), _mm512_set1_ps(0.5f));
  // vmaxps returns its second operand when either is NaN: NaN goes to -127, as in the
  // portable std::max(-127, v).
  const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, half), _mm512_set1_ps(-127.0f)),
                                 _mm512_set1_ps(127.0f));
  return _mm512_cvttps_epi32(r);
}

BRICKS_QUANTIZE_AVX2 __m256i round_clamp256(__m256 x, __m256 inv) {
  const __m256 v = _mm256_mul_ps(x, inv);
  const __m256 up = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 half = _mm256_blendv_ps(_mm256_set1_ps(-0.5f), _mm256_set1_ps(0.5f), up);
  const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, half), _mm256_set1_ps(-127.0f)),
                                 _mm256_set1_ps(127.0f));
  return _mm256_cvttps_epi32(r);
}

// 4 vectors of 8 int32 as 32 bytes, in order, saturated to [-128, 127].
BRICKS_QUANTIZE_AVX2 inline __m256i bytes32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
  // packs works per 128-bit half; put the 32 bytes back in order.
  return _mm256_permutevar8x32_epi32(
      _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3)),
      _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// 32 values as bytes, in order, from 4 vectors of 8 and the inverse scale.
BRICKS_QUANTIZE_AVX2 inline __m256i pack32(const __m256 (&v)[4], __m256 inv) {
  return bytes32(round_clamp256(v[0], inv), round_clamp256(v[1], inv), round_clamp256(v[2], inv),
                 round_clamp256(v[3], inv));
}

// The largest of 8 floats.
BRICKS_QUANTIZE_AVX2 inline float max8(__m256 v) {
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  return _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
}

}  // namespace

BRICKS_QUANTIZE_AVX512 void quantize_row_avx512(const float* x, int64_t cols, int8_t* q, float* d,
                                                float* s) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t k = 0; k < cols; k += kQuantBlock) {
    const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
    // QNaN, +-infinity, SNaN
    const bool nonfinite =
        (_mm512_fpclass_ps_mask(x0, 0x99) | _mm512_fpclass_ps_mask(x1, 0x99)) != 0;
    const float amax =
        _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1)));
    const float scale = block_scale(amax, nonfinite);
    const __m512 inv = _mm512_set1_ps(inverse(scale));
    const __m128i q0 = _mm512_cvtepi32_epi8(round_clamp512(x0, inv));
    const __m128i q1 = _mm512_cvtepi32_epi8(round_clamp512(x1, inv));
    const __m256i q8 = _mm256_set_m128i(q1, q0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), q8);
    lane_sums(q8, scale, d + k / kQuantLane, s + k / kQuantLane);
  }
}

BRICKS_QUANTIZE_AVX2 void quantize_super_row_avx2(const float* x, int64_t cols, int8_t* q, float* d,
                                                  int16_t* s) {
  constexpr int64_t kSuper = 256;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t k = 0; k < cols; k += kSuper) {
    __m256 amax = _mm256_setzero_ps(), probe = _mm256_setzero_ps();
    for (int64_t t = 0; t < kSuper; t += 8) {
      const __m256 v = _mm256_loadu_ps(x + k + t);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v));
      probe = _mm256_add_ps(probe, _mm256_mul_ps(v, _mm256_setzero_ps()));
    }
    const bool nonfinite = _mm256_movemask_ps(_mm256_cmp_ps(probe, probe, _CMP_UNORD_Q)) != 0;
    const float top = max8(amax);
    // Zero, or so small that the scale overflows: every q is 0.
    if (nonfinite || !std::isfinite(-128.0f / top)) {
      d[k / kSuper] = nonfinite ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
      std::memset(q + k, 0, kSuper);
      std::memset(s + k / 16, 0, kSuper / 16 * sizeof(int16_t));
      continue;
    }
    // The first value whose magnitude is the maximum, with its sign.
    float max = 0.0f;
    const __m256 vtop = _mm256_set1_ps(top);
    for (int64_t t = 0; t < kSuper; t += 8) {
      const __m256 v = _mm256_loadu_ps(x + k + t);
      const int hit =
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v), vtop, _CMP_EQ_OQ));
      if (hit != 0) {
        max = x[k + t + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -128.0f / max;
    d[k / kSuper] = 1.0f / iscale;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int64_t b = k; b < k + kSuper; b += kQuantBlock) {
      __m256i i[4];
      for (int t = 0; t < 4; ++t) {
        // vcvtps2dq rounds to nearest even (the default MXCSR mode); 128 saturates to 127 in
        // the packs below.
        i[t] = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + b + 8 * t)));
      }
      const __m256i q8 = bytes32(i[0], i[1], i[2], i[3]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b), q8);
      // Sums of 4, then of each 16: lanes 0-3 hold the first 16 values, 4-7 the others.
      const __m256i fours =
          _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q8), _mm256_set1_epi16(1));
      __m128i h = _mm_hadd_epi32(_mm256_castsi256_si128(fours), _mm256_extracti128_si256(fours, 1));
      h = _mm_hadd_epi32(h, h);
      s[b / 16] = static_cast<int16_t>(_mm_cvtsi128_si32(h));
      s[b / 16 + 1] = static_cast<int16_t>(_mm_extract_epi32(h, 1));
    }
  }
}

BRICKS_QUANTIZE_AVX2 void quantize_row_avx2(const float* x, int64_t cols, int8_t* q, float* d,
                                            float* s) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t k = 0; k < cols; k += kQuantBlock) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps(), probe = _mm256_setzero_ps();
    for (int t = 0; t < 4; ++t) {
      v[t] = _mm256_loadu_ps(x + k + 8 * t);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[t]));
      probe = _mm256_add_ps(probe, _mm256_mul_ps(v[t], _mm256_setzero_ps()));
    }
    const bool nonfinite = _mm256_movemask_ps(_mm256_cmp_ps(probe, probe, _CMP_UNORD_Q)) != 0;
    const float scale = block_scale(max8(amax), nonfinite);
    const __m256 inv = _mm256_set1_ps(inverse(scale));
    const __m256i q8 = pack32(v, inv);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), q8);
    lane_sums(q8, scale, d + k / kQuantLane, s + k / kQuantLane);
  }
}

}  // namespace bricks::cpu::detail
