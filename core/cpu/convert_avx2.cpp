// AVX2 array conversions. Every function here carries its own target attribute; nothing in
// this file may be called without the matching CPU check (see convert_kernels.h).
#include <immintrin.h>

#include "cpu/convert.h"
#include "cpu/convert_kernels.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace bricks::cpu::detail {

BRICKS_AVX2 void f16_to_f32_avx2(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = f16_bits_to_f32(in[i]);
}

BRICKS_AVX2 void f32_to_f16_avx2(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = f32_to_f16_bits(in[i]);
}

BRICKS_AVX2 void bf16_to_f32_avx2(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(u));
  }
  for (; i < n; ++i) out[i] = bf16_bits_to_f32(in[i]);
}

namespace {

// Rounds 8 floats to bf16 (nearest even, NaN kept quiet); results in the low 16 bits.
BRICKS_AVX2 inline __m256i bf16_round8(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm256_and_si256(_mm256_blendv_epi8(r, q, nan), _mm256_set1_epi32(0xffff));
}

// Stores 16 floats (a, then b) at out as bf16.
BRICKS_AVX2 inline void store_bf16x16(uint16_t* out, __m256 a, __m256 b) {
  const __m256i packed =
      _mm256_permute4x64_epi64(_mm256_packus_epi32(bf16_round8(a), bf16_round8(b)), 0xD8);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), packed);
}

}  // namespace

BRICKS_AVX2 void f32_to_bf16_avx2(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    store_bf16x16(out + i, _mm256_loadu_ps(in + i), _mm256_loadu_ps(in + i + 8));
  }
  for (; i < n; ++i) out[i] = f32_to_bf16_bits(in[i]);
}

BRICKS_AVX2 void f16_to_bf16_avx2(const uint16_t* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i h1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 8));
    store_bf16x16(out + i, _mm256_cvtph_ps(h0), _mm256_cvtph_ps(h1));
  }
  for (; i < n; ++i) out[i] = f32_to_bf16_bits(f16_bits_to_f32(in[i]));
}

}  // namespace bricks::cpu::detail
