// Internal to bricks_cpu: the 8 x 8 transpose of 32-bit values in ymm registers, for the
// kernels that turn 8 rows into 8 vectors of one column each (the AVX2 register tiles, the
// plain AVX2 family's transposed panels). The target attribute is a subset of every AVX2
// family's, so the function inlines into any of them.
#pragma once

#include <immintrin.h>

namespace bricks::cpu::detail {

// v[s] takes dword n of v[n] as its dword s: 8 rows of 8 dwords become 8 columns of 8 rows.
__attribute__((target("avx2"))) inline void transpose8(__m256i (&v)[8]) {
  __m256i t[8], h[8];
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_epi32(v[k], v[k + 1]);      // a0 b0 a1 b1 | a4 b4 a5 b5
    t[k + 1] = _mm256_unpackhi_epi32(v[k], v[k + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
  }
  for (int k = 0; k < 8; k += 4) {
    h[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);          // a0 b0 c0 d0 | a4 b4 c4 d4
    h[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);      // a1 .. d1 | a5 .. d5
    h[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);  // a2 .. d2 | a6 .. d6
    h[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);  // a3 .. d3 | a7 .. d7
  }
  for (int s = 0; s < 4; ++s) {
    v[s] = _mm256_permute2x128_si256(h[s], h[s + 4], 0x20);
    v[s + 4] = _mm256_permute2x128_si256(h[s], h[s + 4], 0x31);
  }
}

// The same for floats.
__attribute__((target("avx2"))) inline void transpose8(__m256 (&v)[8]) {
  __m256i r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_castps_si256(v[k]);
  transpose8(r);
  for (int k = 0; k < 8; ++k) v[k] = _mm256_castsi256_ps(r[k]);
}

}  // namespace bricks::cpu::detail
