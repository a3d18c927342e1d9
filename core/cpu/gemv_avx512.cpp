// AVX-512 GEMV kernels (16 floats per vector; needs F, BW, DQ, VL). Everything in this file carries
// a target attribute and internal linkage, so no AVX-512 code leaks into shared inline symbols.
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>

#include "cpu/convert.h"
#include "cpu/gemv_kernels.h"
#include "cpu/prefetch.h"

#define BRICKS_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

using Vec = __m512;
constexpr int kLanes = 16;

// Weight loaders. block(row, k) prepares the values starting at column k; load(ctx, j) returns
// values k + 16j .. k + 16j + 15 as f32; scalar(row, k) is one value, used for column tails.
struct F32 {
  using Ctx = const float*;
  BRICKS_AVX512 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const float*>(row) + k;
  }
  BRICKS_AVX512 static __m512 load(Ctx c, int j) { return _mm512_loadu_ps(c + 16 * j); }
  static float scalar(const char* row, int64_t k) { return reinterpret_cast<const float*>(row)[k]; }
};

struct F16 {
  using Ctx = const uint16_t*;
  BRICKS_AVX512 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const uint16_t*>(row) + k;
  }
  BRICKS_AVX512 static __m512 load(Ctx c, int j) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 16 * j)));
  }
  static float scalar(const char* row, int64_t k) {
    return f16_bits_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
  }
};

struct BF16 {
  using Ctx = const uint16_t*;
  BRICKS_AVX512 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const uint16_t*>(row) + k;
  }
  BRICKS_AVX512 static __m512 load(Ctx c, int j) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 16 * j));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static float scalar(const char* row, int64_t k) {
    return bf16_bits_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
  }
};

BRICKS_AVX512 inline __m512 vzero() { return _mm512_setzero_ps(); }
BRICKS_AVX512 inline __m512 vload(const float* p) { return _mm512_loadu_ps(p); }
BRICKS_AVX512 inline __m512 vfma(__m512 a, __m512 b, __m512 acc) {
  return _mm512_fmadd_ps(a, b, acc);
}
// Left to the compiler here: not measured on an AVX-512 machine.
BRICKS_AVX512 inline void in_register(__m512&) {}
constexpr int kDecodeStreams = 0;
BRICKS_AVX512 inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

#define BRICKS_GEMV_TARGET BRICKS_AVX512
#include "gemv_tile.inc"

// 32 zmm registers hold 4 x 4 accumulators, 4 weight vectors and the activation vector.
template <class L, int MB>
BRICKS_AVX512 void row_group(const GemvArgs& a, int64_t n, int64_t i0, KRange kr) {
  tile<L, 4, MB>(a, n, i0, kr);
}

}  // namespace

GemvFn gemv_avx512(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return gemv<F32>;
    case WeightType::F16:
      return gemv<F16>;
    case WeightType::BF16:
      return gemv<BF16>;
    default:  // the block types run the integer kernels (quant_dot.h)
      break;
  }
  return nullptr;
}

}  // namespace bricks::cpu::detail
