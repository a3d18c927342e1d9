// Internal to bricks_cpu: decoding the quantized block types in zmm registers, for the
// AVX512_VNNI integer kernels (quant_dot_avx512.cpp for a few activation rows,
// quant_dot_avx512_rows.cpp for many). Every function carries the target attribute, so the
// including file compiles for any x86-64 and runs these only after dispatch.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bricks/model/quant_blocks.h"
#include "cpu/prefetch.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_k4_scales.h"

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define BRICKS_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace bricks::cpu::detail::avx512 {

using model::kQKK;

BRICKS_AVX512_VNNI inline float half(const char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

BRICKS_AVX512_VNNI inline __m512i bytes(int v) { return _mm512_set1_epi8(static_cast<char>(v)); }

// The two 32-value blocks of a legacy chunk as lane scales: lanes 0-7 the f16 scale at b0,
// lanes 8-15 the one at b1, or 0 when `one` (b1 past the row). The halves are broadcast as
// words and converted once; a scalar conversion and broadcast per block made q4_0's batch-1
// kernel 15 % slower on weights in cache (GemvCached 25 against 29 GB/s).
BRICKS_AVX512_VNNI inline __m512 pair_scales(const char* b0, const char* b1, bool one) {
  uint16_t h0, h1 = 0;
  std::memcpy(&h0, b0, 2);
  if (!one) std::memcpy(&h1, b1, 2);
  const __m256i words = _mm256_mask_set1_epi16(_mm256_set1_epi16(static_cast<int16_t>(h0)), 0xFF00,
                                               static_cast<int16_t>(h1));
  return _mm512_cvtph_ps(words);
}

// 16 bytes of q4_0 nibbles per block as 32 values: the low nibbles, then the high ones.
BRICKS_AVX512_VNNI inline __m512i nibble_pair(const char* q0, const char* q1) {
  const __m256i lo =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0)));
  const __m256i hi =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)));
  const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  // Shift the second 16 bytes of each block (words 8-15 and 24-31) to their high nibbles.
  return _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4), bytes(15));
}

// q4_0 and q8_0: one row's decoder. Each step is 64 values, two blocks from b0 (`one` when only
// the first exists: a row may end on half a step); chunk() gives the weights u and the lane
// scales a, with w = a * (u + kOffset).
template <WeightType T>
struct Direct;

template <>
struct Direct<WeightType::Q4_0> {
  static constexpr float kOffset = -8.0f;
  using B = model::BlockQ4_0;
  BRICKS_AVX512_VNNI static void chunk(const char* b0, bool one, __m512i& u, __m512& a) {
    const char* b1 = one ? b0 : b0 + sizeof(B);
    u = nibble_pair(b0 + offsetof(B, qs), b1 + offsetof(B, qs));
    a = pair_scales(b0, b1, one);
  }
};

template <>
struct Direct<WeightType::Q8_0> {
  static constexpr float kOffset = -128.0f;
  using B = model::BlockQ8_0;
  BRICKS_AVX512_VNNI static void chunk(const char* b0, bool one, __m512i& u, __m512& a) {
    const char* b1 = one ? b0 : b0 + sizeof(B);
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + offsetof(B, qs)));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + offsetof(B, qs)));
    u = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), bytes(0x80));
    a = pair_scales(b0, b1, one);
  }
};

// ---- k-quants: scales applied per super-block ---------------------------------------------
//
// A super-block of 256 values is 4 chunks of 64. Once per super-block and row, scales() gives
// its group scales as one vector; multiplied by the activation's scales of the same groups
// (QuantizedActivations::k) it holds, per group, the factor of that group's integer dot
// product. The min (q4_K, q5_K) or offset (q6_K) term of the whole super-block is one more
// vector operation against the activation's group sums. Per chunk there is then one permute
// (the chunk's groups to its lanes) and one multiply-add per row and activation row.

// q4_K and q5_K: chunk c is the low nibbles of qs[32c .. 32c + 32) (sub-block 2c), then
// their high nibbles (sub-block 2c + 1); q5_K adds bit 2c or 2c + 1 of qh as 16.
template <class B>
struct SuperK4 {
  using Block = B;
  static constexpr bool kFive = requires(B blk) { blk.qh; };
  // Lanes 0-7: the 8 sub-block scales d * sc; lanes 8-15: the mins -dmin * mn.
  // The 6-bit sc and mn of scale_min_k4 as bytes sc[0..8) then mn[0..8).
  BRICKS_AVX512_VNNI static __m128i six_bits(const char* blk) { return k4_six_bits<B>(blk); }
  BRICKS_AVX512_VNNI static __m512 scales(const char* blk) {
    static_assert(offsetof(B, dmin) == offsetof(B, d) + 2);
    const __m512 six = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(six_bits(blk)));
    uint32_t d_dmin;
    std::memcpy(&d_dmin, blk + offsetof(B, d), 4);
    // The 16 halves alternate d and dmin; d to lanes 0-7, dmin to 8-15, negated.
    const __m512 both = _mm512_cvtph_ps(_mm256_set1_epi32(static_cast<int>(d_dmin)));
    const __m512 scale = _mm512_permutexvar_ps(
        _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), both);
    return _mm512_mul_ps(six, _mm512_mask_sub_ps(scale, 0xFF00, _mm512_setzero_ps(), scale));
  }
  BRICKS_AVX512_VNNI static __m512i bits(const char* blk, int c) {
    const __m512i v = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qs) + 32 * c)));
    __m512i u = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4), bytes(15));
    if constexpr (kFive) {
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qh))));
      const __m512i bit = _mm512_inserti64x4(bytes(1 << (2 * c)),
                                             _mm256_set1_epi8(static_cast<char>(2 << (2 * c))), 1);
      u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(qh, bit), u, bytes(16));
    }
    return u;
  }
  // Lanes 0-7 of chunk c belong to group 2c, lanes 8-15 to group 2c + 1.
  BRICKS_AVX512_VNNI static __m512i lanes(int c) {
    return _mm512_inserti64x4(_mm512_set1_epi32(2 * c), _mm256_set1_epi32(2 * c + 1), 1);
  }
  // The factors of the super-block's groups for one activation row `k` (its 48 floats), and
  // the min term added to acc: lanes 8-15 of ab * k[S32] are -dmin * mn_j * S_j.
  BRICKS_AVX512_VNNI static __m512 factors(__m512 ab, const float* k, __m512& acc) {
    const __m512 f = _mm512_mul_ps(ab, _mm512_loadu_ps(k + kSuperD32));  // d32 then S32
    acc = _mm512_mask_add_ps(acc, 0xFF00, acc, f);
    return f;
  }
};

// q6_K: chunk c is half h = c / 2 of the super-block; chunk 2h takes the low nibbles of
// ql[64h .. 64h + 64) with qh bits 0-1 (first 32) and 2-3 (next 32), chunk 2h + 1 the high
// nibbles with qh bits 4-5 and 6-7. Every weight is d * sc * (u - 32).
struct SuperQ6 {
  using B = model::BlockQ6_K;
  using Block = B;
  // The 16 group scales d * sc.
  BRICKS_AVX512_VNNI static __m512 scales(const char* blk) {
    const __m512i sc = _mm512_cvtepi8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(B, scales))));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(sc), _mm512_set1_ps(half(blk + offsetof(B, d))));
  }
  BRICKS_AVX512_VNNI static __m512i bits(const char* blk, int c) {
    const int h = c / 2;
    const __m512i ql = _mm512_loadu_si512(blk + offsetof(B, ql) + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qh) + 32 * h)));
    // Per 16-bit word: the first 32 bytes shift qh by 4 (c even) or 0, the next 32 by 2.
    const __m512i lo_half = _mm512_set1_epi16(c % 2 == 0 ? 4 : 0);
    const __m512i counts = _mm512_mask_set1_epi16(lo_half, 0xFFFF0000u, 2);
    __m512i high, low;
    if (c % 2 == 0) {
      low = _mm512_and_si512(ql, bytes(15));
      high = _mm512_sllv_epi16(qh, counts);
    } else {
      low = _mm512_and_si512(_mm512_srli_epi16(ql, 4), bytes(15));
      high = _mm512_srlv_epi16(qh, counts);
    }
    return _mm512_or_si512(low, _mm512_and_si512(high, bytes(0x30)));
  }
  // Lane l of chunk c belongs to group 4c + l / 4.
  BRICKS_AVX512_VNNI static __m512i lanes(int c) {
    return _mm512_add_epi32(_mm512_set1_epi32(4 * c),
                            _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0));
  }
  // The offset term: sum over groups of a_g * -32 * S_g.
  BRICKS_AVX512_VNNI static __m512 factors(__m512 a, const float* k, __m512& acc) {
    acc = _mm512_fmadd_ps(a, _mm512_mul_ps(_mm512_loadu_ps(k + kSuperS16), _mm512_set1_ps(-32.0f)),
                          acc);
    return _mm512_mul_ps(a, _mm512_loadu_ps(k + kSuperD16));
  }
};

template <WeightType T>
struct Super;
template <>
struct Super<WeightType::Q4_K> : SuperK4<model::BlockQ4_K> {};
template <>
struct Super<WeightType::Q5_K> : SuperK4<model::BlockQ5_K> {};
template <>
struct Super<WeightType::Q6_K> : SuperQ6 {};

}  // namespace bricks::cpu::detail::avx512
