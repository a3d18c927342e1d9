// AVX2 + FMA + F16C GEMV kernels (8 floats per vector). Everything in this file carries a
// target attribute and internal linkage, so no AVX2 code leaks into shared inline symbols.
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "cpu/convert.h"
#include "cpu/gemv_kernels.h"
#include "cpu/prefetch.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

using Vec = __m256;
constexpr int kLanes = 8;

// Weight loaders. block(row, k) prepares the values starting at column k; load(ctx, j) returns
// values k + 8j .. k + 8j + 7 as f32; scalar(row, k) is one value, used for column tails.
struct F32 {
  using Ctx = const float*;
  BRICKS_AVX2 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const float*>(row) + k;
  }
  BRICKS_AVX2 static __m256 load(Ctx c, int j) { return _mm256_loadu_ps(c + 8 * j); }
  static float scalar(const char* row, int64_t k) { return reinterpret_cast<const float*>(row)[k]; }
};

struct F16 {
  using Ctx = const uint16_t*;
  BRICKS_AVX2 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const uint16_t*>(row) + k;
  }
  BRICKS_AVX2 static __m256 load(Ctx c, int j) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + 8 * j)));
  }
  static float scalar(const char* row, int64_t k) {
    return f16_bits_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
  }
};

struct BF16 {
  using Ctx = const uint16_t*;
  BRICKS_AVX2 static Ctx block(const char* row, int64_t k) {
    return reinterpret_cast<const uint16_t*>(row) + k;
  }
  BRICKS_AVX2 static __m256 load(Ctx c, int j) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + 8 * j));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float scalar(const char* row, int64_t k) {
    return bf16_bits_to_f32(reinterpret_cast<const uint16_t*>(row)[k]);
  }
};

BRICKS_AVX2 inline __m256 vzero() { return _mm256_setzero_ps(); }
BRICKS_AVX2 inline __m256 vload(const float* p) { return _mm256_loadu_ps(p); }
BRICKS_AVX2 inline __m256 vfma(__m256 a, __m256 b, __m256 acc) { return _mm256_fmadd_ps(a, b, acc); }
// GCC folds the activation load into each FMA that uses it, so a tile of 2 weight rows by 4
// activation rows issued 10 loads per 8 multiply-adds, more than two 256-bit load ports take in
// the FMAs' 4 cycles. An empty asm keeps one load per vector: f16 5632 x 2048 (Zen 3, 2 threads)
// 1.04-1.10x at 4 and 8 rows (Gemv, Crossover), GemvCached 1.07-1.08x on one thread. bf16 at 8
// rows ran 0.73-0.83x without it (the same source as before it came, compiled otherwise).
BRICKS_AVX2 inline void in_register(__m256& v) { asm("" : "+x"(v)); }
// One activation row takes 4 rows a quarter of the range apart: 4 streams a thread, each in
// address order, as the read sweep reads. Against 4 adjacent rows (Zen 3, 5 alternated rounds):
// f16 Gemv 1.06-1.12x, f16 batch-1 decode 18.4-18.8 -> 20.1-20.4 tok/s (`bricks run`).
constexpr int kDecodeStreams = 4;
BRICKS_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#define BRICKS_GEMV_TARGET BRICKS_AVX2
#include "gemv_tile.inc"

// 16 ymm registers: R * MB accumulators + R weight vectors + 1 activation vector. 3 or 4
// activation rows of f16 or f32 weights take two tiles of 4 weight rows (by 2, then by the rest)
// rather than two of 2 weight rows by all of them: each weight vector is converted twice
// instead of once, but the activations, which come from L2, are read once per 4 weight rows
// instead of per 2. f16 5632 x 2048 (Zen 3, 2 threads, 3 alternated rounds): 1.07x at 4 rows,
// 1.13x at 8 (Gemv), 1.05-1.10x at 8 and 12 (Crossover); GemvCached 1.08-1.13x. bf16
// takes two instructions to convert a vector and keeps the 2-row tiles: bf16 ran 0.94x
// and 0.98x at 4 and 8 rows in the 4-row ones.
template <class L, int MB>
BRICKS_AVX2 void row_group(const GemvArgs& a, int64_t n, int64_t i0, KRange kr) {
  if constexpr (MB <= 2) {
    tile<L, 4, MB>(a, n, i0, kr);
  } else if constexpr (std::is_same_v<L, F16> || std::is_same_v<L, F32>) {
    tile<L, 4, 2>(a, n, i0, kr);
    tile<L, 4, MB - 2>(a, n, i0 + 2, kr);
  } else {
    tile<L, 2, MB>(a, n, i0, kr);
    tile<L, 2, MB>(a, n + 2, i0, kr);
  }
}

}  // namespace

GemvFn gemv_avx2(WeightType t) {
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
