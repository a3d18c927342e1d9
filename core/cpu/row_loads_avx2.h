// Internal to bricks_cpu: 8 values of an f32, f16 or bf16 weight row as f32 in a ymm register,
// for the AVX2 kernels that convert weight rows into f32 panels (gemm_tiles_avx2,
// gemv_bcast_avx2). The target attribute is a subset of theirs, so everything inlines.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bricks::cpu::detail::row_loads {

#define BRICKS_ROW_LOADS __attribute__((target("avx2,f16c")))

// convert(p): the 8 values at p as f32; kBytes: the bytes of one value.
struct F32 {
  static constexpr int64_t kBytes = 4;
  BRICKS_ROW_LOADS static __m256 convert(const char* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
};
struct F16 {
  static constexpr int64_t kBytes = 2;
  BRICKS_ROW_LOADS static __m256 convert(const char* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct BF16 {
  static constexpr int64_t kBytes = 2;
  BRICKS_ROW_LOADS static __m256 convert(const char* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
};

// Values k .. k + 8 of a weight row as f32; with fewer than 8 left (`count`), those and zeros.
template <class L>
BRICKS_ROW_LOADS inline __m256 load8(const char* row, int64_t k, int64_t count) {
  const char* p = row + k * L::kBytes;
  if (count >= 8) return L::convert(p);
  alignas(32) char tail[8 * L::kBytes] = {};
  std::memcpy(tail, p, static_cast<size_t>(count * L::kBytes));
  return L::convert(tail);
}

#undef BRICKS_ROW_LOADS

}  // namespace bricks::cpu::detail::row_loads
