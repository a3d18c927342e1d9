// AVX-512 elementwise ops. Every function here carries its own target attribute; nothing in
// this file may be called without the matching CPU check (see ops_kernels.h).
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "bricks/vector_exp.hpp"
#include "cpu/ops_kernels.h"

#define BRICKS_AVX512 __attribute__((target("avx512f,avx512dq,fma")))

namespace bricks::cpu::detail {
namespace {

BRICKS_AVX512 inline __m512 silu_mul16(__m512 g, __m512 u) {
  const __m512 e = bricks::exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

}  // namespace

BRICKS_AVX512 void silu_mul_avx512(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  }
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 g = _mm512_maskz_loadu_ps(mask, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(mask, up + i);
    _mm512_mask_storeu_ps(out + i, mask, silu_mul16(g, u));
  }
}

}  // namespace bricks::cpu::detail
