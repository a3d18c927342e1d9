// The zmm integer GEMV kernels: vpdpbusd on AVX512_VNNI, 64 int8 products per instruction.
// Weights are unpacked by the AVX2 unpackers (quant_dot_avx2.cpp) into a buffer that every
// activation row reuses. For a few activation rows (decode) q8_0, q4_0 and the k-quants
// instead decode each 64 weights in registers right before their dot products, so a weight
// byte is read once and never stored. Everything in this file carries a target attribute
// and internal linkage, except the table at the end.
#include <immintrin.h>

#include <cstddef>
#include <cstring>

// GCC 12 reports the deliberately undefined pass-through operands inside avx512fintrin.h
// (_mm512_undefined_*) as uninitialized once the intrinsics are inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "cpu/quant_dot.h"

#define BRICKS_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace bricks::cpu::detail {
namespace {

using VecF = __m512;
constexpr int kBytes = 64;
// 32 zmm registers: 4 x 4 accumulators, the activation scale and sum, and temporaries.
constexpr int kTileRows = 4;
constexpr bool kQ8Signed = false;

BRICKS_AVX512_VNNI inline __m512 fzero() { return _mm512_setzero_ps(); }
BRICKS_AVX512_VNNI inline __m512 fload(const float* p) { return _mm512_loadu_ps(p); }
// The scales of one vector of values (64) from groups of `kGroup` values starting at p.
template <int kGroup>
BRICKS_AVX512_VNNI inline __m512 fgroups(const float* p) {
  const __m512 four = _mm512_castps128_ps512(_mm_loadu_ps(p));  // p[0 .. 64 / kGroup) used
  const __m512i index = kGroup == 32
                            ? _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
                            : _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(index, four);
}
BRICKS_AVX512_VNNI inline __m512 fmul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
BRICKS_AVX512_VNNI inline __m512 ffma(__m512 a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(a, b, c);
}
BRICKS_AVX512_VNNI inline float fsum(__m512 v) { return _mm512_reduce_add_ps(v); }

template <bool kSigned>
BRICKS_AVX512_VNNI inline __m512 dot_lanes(const uint8_t* u, const int8_t* q) {
  static_assert(!kSigned);
  const __m512i w = _mm512_loadu_si512(u), x = _mm512_loadu_si512(q);
  return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, x));
}

#define BRICKS_QDOT_TARGET BRICKS_AVX512_VNNI
#include "quant_dot_tile.inc"

// ---- Decoding in registers, for a few activation rows ------------------------------------

// Activation rows up to which the register-decoding kernels run; above, unpacking each
// weight row once into the buffer and reusing it is cheaper.
constexpr int64_t kDirectMaxRows = 4;

using model::kQK;
using model::kQKK;

BRICKS_AVX512_VNNI inline float half(const char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

BRICKS_AVX512_VNNI inline __m512i bytes(int v) { return _mm512_set1_epi8(static_cast<char>(v)); }

// The two 32-value blocks of a legacy chunk as lane scales: lanes 0-7 d0, lanes 8-15 d1.
BRICKS_AVX512_VNNI inline __m512 pair_scales(float d0, float d1) {
  return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

// 16 bytes of q4_0 nibbles per block as 32 values: the low nibbles, then the high ones.
BRICKS_AVX512_VNNI inline __m512i nibble_pair(const char* q0, const char* q1) {
  const __m256i lo =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0)));
  const __m256i hi =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)));
  const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  // Shift the second 16 bytes of each block (words 8-15 and 24-31) to their high nibbles.
  return _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4), bytes(15));
}

// One row's decoder: per step (kStep values, chunks of 64), weights u and lane scales a, b
// with w = a * u + b. Where b = kOffset * a for every group, chunk() gives u and a only.
template <WeightType T>
struct Direct;

template <>
struct Direct<WeightType::Q4_0> {
  static constexpr int64_t kStep = 2 * kQK;
  static constexpr float kOffset = -8.0f;  // b / a, the same for every group
  using B = model::BlockQ4_0;
  struct Scales {};
  BRICKS_AVX512_VNNI static void prepare(const char*, int64_t, Scales&) {}
  // Chunk of blocks 2 * step and 2 * step + 1; `one` when only the first exists.
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, int, bool one, const Scales&,
                                       __m512i& u, __m512& a) {
    const char* b0 = row + 2 * step * static_cast<int64_t>(sizeof(B));
    const char* b1 = one ? b0 : b0 + sizeof(B);
    u = nibble_pair(b0 + offsetof(B, qs), b1 + offsetof(B, qs));
    a = pair_scales(half(b0), one ? 0.0f : half(b1));
  }
};

template <>
struct Direct<WeightType::Q8_0> {
  static constexpr int64_t kStep = 2 * kQK;
  static constexpr float kOffset = -128.0f;  // b / a, the same for every group
  using B = model::BlockQ8_0;
  struct Scales {};
  BRICKS_AVX512_VNNI static void prepare(const char*, int64_t, Scales&) {}
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, int, bool one, const Scales&,
                                       __m512i& u, __m512& a) {
    const char* b0 = row + 2 * step * static_cast<int64_t>(sizeof(B));
    const char* b1 = one ? b0 : b0 + sizeof(B);
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + offsetof(B, qs)));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + offsetof(B, qs)));
    u = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), bytes(0x80));
    a = pair_scales(half(b0), one ? 0.0f : half(b1));
  }
};

// q4_K and q5_K: chunk c of a super-block is the low nibbles of qs[32c .. 32c + 32) (sub-block
// 2c), then their high nibbles (sub-block 2c + 1).
template <class B>
struct DirectK4 {
  static constexpr int64_t kStep = kQKK;
  static constexpr float kOffset = 0.0f;  // b is per group
  static constexpr bool kFive = requires(B blk) { blk.qh; };
  // The 8 sub-block scales d * sc in lanes 0-7, the mins -dmin * mn in lanes 8-15.
  struct Scales {
    __m512 ab;
  };
  BRICKS_AVX512_VNNI static void prepare(const char* row, int64_t step, Scales& s) {
    const char* blk = row + step * static_cast<int64_t>(sizeof(B));
    // The 6-bit sc and mn of scale_min_k4, rearranged into bytes sc[0..8) then mn[0..8).
    uint32_t v[3];
    std::memcpy(v, blk + offsetof(B, scales), 12);
    constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
    const uint32_t sc[4] = {v[0] & k6, (v[2] & k4) | (((v[0] >> 6) & k2) << 4), v[1] & k6,
                            ((v[2] >> 4) & k4) | (((v[1] >> 6) & k2) << 4)};
    const __m512 six = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc))));
    const __m512 scale = _mm512_insertf32x8(_mm512_set1_ps(half(blk + offsetof(B, d))),
                                            _mm256_set1_ps(-half(blk + offsetof(B, dmin))), 1);
    s.ab = _mm512_mul_ps(six, scale);
  }
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, int c, bool, const Scales& s,
                                       __m512i& u, __m512& a, __m512& b) {
    const char* blk = row + step * static_cast<int64_t>(sizeof(B));
    const __m512i v = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qs) + 32 * c)));
    u = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4), bytes(15));
    if constexpr (kFive) {
      // Sub-block 2c takes bit 2c of qh[l], sub-block 2c + 1 bit 2c + 1.
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qh))));
      const __m512i bit = _mm512_inserti64x4(bytes(1 << (2 * c)),
                                             _mm256_set1_epi8(static_cast<char>(2 << (2 * c))), 1);
      u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(qh, bit), u, bytes(16));
    }
    const __m512i index =
        _mm512_inserti64x4(_mm512_set1_epi32(2 * c), _mm256_set1_epi32(2 * c + 1), 1);
    a = _mm512_permutexvar_ps(index, s.ab);
    b = _mm512_permutexvar_ps(_mm512_add_epi32(index, _mm512_set1_epi32(8)), s.ab);
  }
};
template <>
struct Direct<WeightType::Q4_K> : DirectK4<model::BlockQ4_K> {};
template <>
struct Direct<WeightType::Q5_K> : DirectK4<model::BlockQ5_K> {};

// q6_K: chunk c of a super-block is half h = c / 2 of it; chunk 2h takes the low nibbles of
// ql[64h .. 64h + 64) with qh bits 0-1 (first 32) and 2-3 (next 32), chunk 2h + 1 the high
// nibbles with qh bits 4-5 and 6-7.
template <>
struct Direct<WeightType::Q6_K> {
  static constexpr int64_t kStep = kQKK;
  static constexpr float kOffset = -32.0f;  // b / a, the same for every group
  using B = model::BlockQ6_K;
  struct Scales {
    float a[16];  // d * sc per group of 16
  };
  BRICKS_AVX512_VNNI static void prepare(const char* row, int64_t step, Scales& s) {
    const char* blk = row + step * static_cast<int64_t>(sizeof(B));
    const __m512i sc = _mm512_cvtepi8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(B, scales))));
    _mm512_storeu_ps(
        s.a, _mm512_mul_ps(_mm512_cvtepi32_ps(sc), _mm512_set1_ps(half(blk + offsetof(B, d)))));
  }
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, int c, bool, const Scales& s,
                                       __m512i& u, __m512& a) {
    const char* blk = row + step * static_cast<int64_t>(sizeof(B));
    const int h = c / 2;
    const __m512i ql = _mm512_loadu_si512(blk + offsetof(B, ql) + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qh) + 32 * h)));
    // Per 16-bit word: the first 32 bytes shift qh by 4 (c even) or 0, the next 32 by 2.
    const __m512i lo_half = _mm512_set1_epi16(c % 2 == 0 ? 4 : 0);
    const __m512i counts = _mm512_mask_set1_epi16(lo_half, 0xFFFF0000u, 2);
    __m512i high, low;
    if (c % 2 == 0) {
      low = _mm512_and_si512(ql, bytes(15));
      high = _mm512_sllv_epi16(qh, counts);
    } else {
      low = _mm512_and_si512(_mm512_srli_epi16(ql, 4), bytes(15));
      high = _mm512_srlv_epi16(qh, counts);
    }
    u = _mm512_or_si512(low, _mm512_and_si512(high, bytes(0x30)));
    a = fgroups<16>(s.a + 4 * c);
  }
};

// R weight rows (n .. n + R) against the MB activation rows i0 .. i0 + MB of the call.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void direct_tile(const QuantGemvArgs& a, int64_t n) {
  using D = Direct<T>;
  constexpr int kChunks = static_cast<int>(D::kStep / kBytes);
  const QuantizedActivations& x = *a.x;
  const int64_t lane_stride = x.padded / kQuantLane;
  const int8_t* q[MB];
  const float *d[MB], *s[MB];
  for (int j = 0; j < MB; ++j) {
    q[j] = x.q.data() + (a.i0 + j) * x.padded;
    d[j] = x.d.data() + (a.i0 + j) * lane_stride;
    s[j] = x.s.data() + (a.i0 + j) * lane_stride;
  }
  const char* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = a.w + (n + r) * a.row_bytes;
  VecF acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = fzero();
  const int64_t steps = (a.cols + D::kStep - 1) / D::kStep;
  for (int64_t st = 0; st < steps; ++st) {
    // Legacy rows may end on half a chunk (one block of 32); k-quant rows never do.
    const bool one = (st + 1) * D::kStep > a.cols;
    typename D::Scales sc[R];
    for (int r = 0; r < R; ++r) D::prepare(rows[r], st, sc[r]);
    for (int c = 0; c < kChunks; ++c) {
      const int64_t k = st * D::kStep + c * kBytes;
      const int64_t l = k / kQuantLane;
      __m512i u[R];
      VecF wa[R], wb[R];
      for (int r = 0; r < R; ++r) {
        if constexpr (D::kOffset != 0.0f) {
          D::chunk(rows[r], st, c, one, sc[r], u[r], wa[r]);
        } else {
          D::chunk(rows[r], st, c, one, sc[r], u[r], wa[r], wb[r]);
        }
      }
      for (int j = 0; j < MB; ++j) {
        const __m512i xq = _mm512_loadu_si512(q[j] + k);
        const VecF dj = fload(d[j] + l);
        // With a fixed offset, a * (dot * d + kOffset * s) instead of a * dot * d + b * s.
        VecF sj = fload(s[j] + l);
        if constexpr (D::kOffset != 0.0f) sj = fmul(sj, _mm512_set1_ps(D::kOffset));
        for (int r = 0; r < R; ++r) {
          const VecF dot =
              _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[r], xq));
          if constexpr (D::kOffset != 0.0f) {
            acc[r][j] = ffma(wa[r], ffma(dot, dj, sj), acc[r][j]);
          } else {
            acc[r][j] = ffma(wa[r], fmul(dot, dj), acc[r][j]);
            acc[r][j] = ffma(wb[r], sj, acc[r][j]);
          }
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[j * a.ldy + n + r] = fsum(acc[r][j]);
}

template <WeightType T, int MB>
BRICKS_AVX512_VNNI void direct_rows(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  constexpr int R = 4;
  int64_t n = n0;
  for (; n + R <= n1; n += R) direct_tile<T, R, MB>(a, n);
  for (; n < n1; ++n) direct_tile<T, 1, MB>(a, n);
}

// quant_gemv<T> for more than kDirectMaxRows activation rows, else decoding in registers.
template <WeightType T>
BRICKS_AVX512_VNNI void direct_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  static_assert(kDirectMaxRows == 4);
  switch (a.m) {
    case 1:
      return direct_rows<T, 1>(a, n0, n1);
    case 2:
      return direct_rows<T, 2>(a, n0, n1);
    case 3:
      return direct_rows<T, 3>(a, n0, n1);
    case 4:
      return direct_rows<T, 4>(a, n0, n1);
    default:
      return quant_gemv<T>(a, n0, n1);
  }
}

}  // namespace

QuantGemvFn quant_gemv_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return direct_gemv<WeightType::Q8_0>;
    case WeightType::Q4_0:
      return direct_gemv<WeightType::Q4_0>;
    case WeightType::Q4_K:
      return direct_gemv<WeightType::Q4_K>;
    case WeightType::Q5_K:
      return direct_gemv<WeightType::Q5_K>;
    case WeightType::Q6_K:
      return direct_gemv<WeightType::Q6_K>;
    default:
      return quant_gemv_table(t);
  }
}

}  // namespace bricks::cpu::detail
