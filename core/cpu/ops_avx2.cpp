// AVX2 elementwise ops. Every function here carries its own target attribute; nothing in
// this file may be called without the matching CPU check (see ops_kernels.h).
#include <immintrin.h>

#include <cmath>

#include "bricks/vector_exp.hpp"
#include "cpu/ops_kernels.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma")))

namespace bricks::cpu::detail {

BRICKS_AVX2 void silu_mul_avx2(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = bricks::exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace bricks::cpu::detail
