// Internal to bricks_cpu: the 6-bit sub-block scales and mins of a q4_K / q5_K super-block
// (scale_min_k4 in quant_blocks.h) unpacked in one xmm register, for the AVX2 and AVX-512
// register-decoding kernels alike. The target attribute is a subset of both families', so the
// function inlines into either.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace bricks::cpu::detail {

// Bytes sc[0..8) then mn[0..8) of the super-block `blk` of type B. Of the 12 scale bytes
// v0 v1 v2 (4 each): sc[j] = v0[j] & 63 and mn[j] = v1[j] & 63 for j < 4;
// sc[j + 4] = (v2[j] & 15) | (v0[j] >> 6) << 4 and mn[j + 4] = (v2[j] >> 4) | (v1[j] >> 6) << 4.
template <class B>
__attribute__((target("avx2"))) inline __m128i k4_six_bits(const char* blk) {
  // 16 bytes from the scales: the 4 after them are the block's first quants, unused.
  static_assert(offsetof(B, scales) + 16 <= sizeof(B));
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(B, scales)));
  const __m128i low =
      _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  const __m128i top =
      _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7));
  // Bytes 12-15 (words 6 and 7) take the high nibbles of v2.
  const __m128i nibbles =
      _mm_and_si128(_mm_blend_epi16(low, _mm_srli_epi16(low, 4), 0xC0),
                    _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  // Bits 6-7 of v0 (v1) as bits 4-5 of bytes 4-7 (12-15).
  const __m128i high =
      _mm_and_si128(_mm_srli_epi16(top, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(nibbles, high);
}

}  // namespace bricks::cpu::detail
