// The AVX2 unpackers of q4_1, q5_0 and q5_1 (used by every SIMD family) and the ymm integer
// GEMV kernels: vpmaddubsw + vpmaddwd on AVX2, vpdpbusd where the CPU has AVX-VNNI. Each
// family has the unpacked-row tiling for those three types (quant_dot_tile.inc) and, for
// q8_0, q4_0 and the k-quants at every row count, decoding in registers
// (quant_dot_ymm_direct.inc); the plain AVX2 family takes the k-quants' activations in the
// super-block form (quant_dot_ymm_q8k.inc), and from 8 activation rows decodes q4_K and q5_K
// into transposed panels of 8 weight rows (quant_dot_ymm_q8k_rows.inc), as it copies q8_0
// (quant_dot_ymm_q8_rows.inc); q4_K, q5_K and q6_K repacked at load to the lane layout have
// kernels of their own in that family (quant_dot_ymm_q4k_lanes.inc, quant_dot_ymm_q6k_lanes.inc).
// Everything in this file carries a target attribute and internal linkage, except the four
// tables at the end.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "cpu/prefetch.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_k4_scales.h"
#include "cpu/transpose_avx2.h"
#include "cpu/weight_lanes.h"

#define BRICKS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BRICKS_AVX_VNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

namespace bricks::cpu::detail {
namespace {

using model::kQK;
using model::kQKK;

BRICKS_AVX2 inline float half(const char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

BRICKS_AVX2 inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

BRICKS_AVX2 inline __m256i bytes(int v) { return _mm256_set1_epi8(static_cast<char>(v)); }

BRICKS_AVX2 void zero_padding(int64_t cols, UnpackedRow out) {
  for (int64_t v = cols; v < quant_padded(cols); v += 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.u + v), _mm256_setzero_si256());
  }
  for (int64_t g = cols / kQK; g < quant_padded(cols) / kQK; ++g) out.a[g] = out.b[g] = 0.0f;
}

// 16 bytes of nibbles as 32 values: the low nibbles, then the high ones.
BRICKS_AVX2 inline __m256i nibbles16(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), bytes(15));
}

// Byte j is 0x10 where bit j of `bits` is set, else 0.
BRICKS_AVX2 inline __m256i bit_bytes(uint32_t bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select), bytes(16));
}

// q4_1, q5_0 and q5_1: the types without register kernels.
template <class B>
BRICKS_AVX2 void unpack_legacy(const char* row, int64_t cols, UnpackedRow out) {
  constexpr bool kFive = requires(B b) { b.qh; };
  constexpr bool kMin = requires(B b) { b.m; };
  static_assert(kFive || kMin);
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const char* blk = row + b * static_cast<int64_t>(sizeof(B));
    __m256i u = nibbles16(reinterpret_cast<const uint8_t*>(blk + offsetof(B, qs)));
    const float d = half(blk);
    if constexpr (kFive) {
      uint32_t qh;
      std::memcpy(&qh, blk + offsetof(B, qh), 4);
      u = _mm256_or_si256(u, bit_bytes(qh));
    }
    float min = 0.0f;
    if constexpr (kMin) {
      min = half(blk + offsetof(B, m));
    } else {
      min = -16.0f * d;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.u + b * kQK), u);
    out.a[b] = d;
    out.b[b] = min;
  }
  zero_padding(cols, out);
}

// ---- ymm kernels ------------------------------------------------------------------------

using VecF = __m256;
constexpr int kBytes = 32;
// 16 ymm registers: 4 x 2 accumulators, the activation scale and sum, and temporaries.
constexpr int kTileRows = 2;

BRICKS_AVX2 inline __m256 fzero() { return _mm256_setzero_ps(); }
// The scales of one vector of values (32, one block) from its block's scale at p.
BRICKS_AVX2 inline __m256 fblocks(const float* p) { return _mm256_broadcast_ss(p); }
BRICKS_AVX2 inline __m256 fload(const float* p) { return _mm256_loadu_ps(p); }
BRICKS_AVX2 inline __m256 fmul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
BRICKS_AVX2 inline __m256 ffma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
BRICKS_AVX2 inline float fsum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 p = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}

namespace madd {

constexpr bool kQ8Signed = true;  // pmaddubsw saturates int16 on (q + 128) * q
constexpr bool kQ8k = true;

// u * q summed by 4 through int16 pairs (no saturation: u <= 63, or the int8 q8_0 form).
BRICKS_AVX2 inline __m256i dot4(__m256i u, __m256i q) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, q), _mm256_set1_epi16(1));
}

BRICKS_AVX2 inline __m256 dot_lanes(const uint8_t* u, const int8_t* q) {
  return _mm256_cvtepi32_ps(dot4(load32(u), load32(q)));
}

#define BRICKS_QDOT_TARGET BRICKS_AVX2
#include "quant_dot_tile.inc"
#include "quant_dot_ymm_direct.inc"
#include "quant_dot_ymm_q8k.inc"
#include "quant_dot_ymm_q8k_rows.inc"
// After the k-quant panels, whose helpers they take.
#include "quant_dot_ymm_q4k_lanes.inc"
#include "quant_dot_ymm_q6k_lanes.inc"
#include "quant_dot_ymm_q8_rows.inc"
#undef BRICKS_QDOT_TARGET

}  // namespace madd

namespace vnni {

constexpr bool kQ8Signed = false;
constexpr bool kQ8k = false;

BRICKS_AVX_VNNI inline __m256i dot4(__m256i u, __m256i q) {
  return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, q);
}

BRICKS_AVX_VNNI inline __m256 dot_lanes(const uint8_t* u, const int8_t* q) {
  return _mm256_cvtepi32_ps(dot4(load32(u), load32(q)));
}

#define BRICKS_QDOT_TARGET BRICKS_AVX_VNNI
#include "quant_dot_tile.inc"
#include "quant_dot_ymm_direct.inc"
#undef BRICKS_QDOT_TARGET

}  // namespace vnni

}  // namespace

UnpackFn unpack_avx2(WeightType t) {
  switch (t) {
    case WeightType::Q4_1:
      return unpack_legacy<model::BlockQ4_1>;
    case WeightType::Q5_0:
      return unpack_legacy<model::BlockQ5_0>;
    case WeightType::Q5_1:
      return unpack_legacy<model::BlockQ5_1>;
    case WeightType::Q8_0:
    case WeightType::Q4_0:
    case WeightType::Q4_K:
    case WeightType::Q5_K:
    case WeightType::Q6_K:
    case WeightType::F32:
    case WeightType::F16:
    case WeightType::BF16:
      break;
  }
  return nullptr;
}

QuantGemvFn quant_gemv_avx2(WeightType t) { return madd::direct_gemv_table(t); }
QuantGemvFn quant_gemv_avx_vnni(WeightType t) { return vnni::direct_gemv_table(t); }

QuantGemvFn quant_lanes_avx2(WeightType t) {
  if (t == WeightType::Q4_K) return madd::k4_lanes<WeightType::Q4_K>;
  if (t == WeightType::Q5_K) return madd::k4_lanes<WeightType::Q5_K>;
  if (t == WeightType::Q6_K) return madd::q6k_lanes;
  return nullptr;
}

}  // namespace bricks::cpu::detail
