// AVX2 + FMA + F16C GEMV kernels (8 floats per vector). Everything in this file carries a
// target attribute and internal linkage, so no AVX2 code leaks into shared inline symbols.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "cpu/convert.h"
#include "cpu/gemv_kernels.h"
#include "cpu/prefetch.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

using Vec = __m256;
constexpr int kLanes = 8;

// Weight loaders. block(row, k) prepares the 32 values starting at column k (k % 32 == 0
// for Q8_0); load(ctx, j) returns values k + 8j .. k + 8j + 7 as f32; scalar(row, k) is one
// value, used for column tails.
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

struct Q8 {
  struct Ctx {
    const int8_t* q;
    __m256 d;
  };
  BRICKS_AVX2 static Ctx block(const char* row, int64_t k) {
    const char* blk = row + (k / kQ8Block) * kQ8BlockBytes;
    uint16_t d_bits;
    std::memcpy(&d_bits, blk, 2);
    return {reinterpret_cast<const int8_t*>(blk + 2), _mm256_set1_ps(_cvtsh_ss(d_bits))};
  }
  BRICKS_AVX2 static __m256 load(const Ctx& c, int j) {
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(c.q + 8 * j));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), c.d);
  }
  static float scalar(const char*, int64_t) { return 0.0f; }  // q8_0 has no column tail
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

// Decode (one activation row) on q8_0: the int8 values meet the activations unscaled and
// each row's block sum takes its scale once, one multiply per block instead of per vector.
// The f32 sums differ from tile<Q8> only by rounding order.
BRICKS_AVX2 void q8_decode_rows4(const GemvArgs& a, int64_t n, int64_t i0, KRange kr) {
  constexpr int R = 4;
  const char* w[R];
  for (int r = 0; r < R; ++r) w[r] = a.w + (n + r) * a.row_bytes;
  const float* x = a.x + i0 * a.cols;
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t k = kr.k0; k < kr.k1; k += kQ8Block) {
    const char* blk[R];
    __m256 part[R];
    for (int r = 0; r < R; ++r) {
      blk[r] = w[r] + (k / kQ8Block) * kQ8BlockBytes;
      part[r] = _mm256_setzero_ps();
    }
    for (int j = 0; j < 4; ++j) {
      const __m256 xv = _mm256_loadu_ps(x + k + 8 * j);
      for (int r = 0; r < R; ++r) {
        const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk[r] + 2 + 8 * j));
        part[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), xv, part[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      uint16_t d_bits;
      std::memcpy(&d_bits, blk[r], 2);
      acc[r] = _mm256_fmadd_ps(part[r], _mm256_set1_ps(_cvtsh_ss(d_bits)), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float& out = a.y[i0 * a.ldy + n + r];
    out = kr.accumulate ? out + hsum(acc[r]) : hsum(acc[r]);
  }
}

// 16 ymm registers: R * MB accumulators + R weight vectors + 1 activation vector. 3 or 4
// activation rows of f16 or f32 weights take two tiles of 4 weight rows (by 2, then by the rest)
// rather than two of 2 weight rows by all of them: each weight vector is converted twice
// instead of once, but the activations, which come from L2, are read once per 4 weight rows
// instead of per 2. f16 5632 x 2048 (Zen 3, 2 threads, 3 alternated rounds): 1.07x at 4 rows,
// 1.13x at 8 (Gemv), 1.05-1.10x at 8 and 12 (Crossover); GemvCached 1.08-1.13x. bf16 and q8_0
// take two instructions or more to convert a vector and keep the 2-row tiles: bf16 ran 0.94x
// and 0.98x at 4 and 8 rows in the 4-row ones.
template <class L, int MB>
BRICKS_AVX2 void row_group(const GemvArgs& a, int64_t n, int64_t i0, KRange kr) {
  if constexpr (std::is_same_v<L, Q8> && MB == 1) {
    q8_decode_rows4(a, n, i0, kr);
  } else if constexpr (MB <= 2) {
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
    case WeightType::Q8_0:
      return gemv<Q8>;
    default:  // the other block types run the portable kernels
      break;
  }
  return nullptr;
}

}  // namespace bricks::cpu::detail
