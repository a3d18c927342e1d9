// The zmm integer GEMV kernels: vpdpbusd on AVX512_VNNI, 64 int8 products per instruction.
// Weights are unpacked by the AVX2 unpackers (quant_dot_avx2.cpp) into a buffer that every
// activation row reuses. For a few activation rows (decode) q8_0, q4_0 and the k-quants
// instead decode each 64 weights in registers right before their dot products, so a weight
// byte is read once and never stored; those kernels also prefetch the rows they read next
// (their R rows side by side are R streams, which the hardware prefetcher follows too late:
// prefetching made batch-1 decode 1.4-1.8x faster). Everything in this file carries a target
// attribute and internal linkage, except the table at the end.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
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

using model::kQKK;

BRICKS_AVX512_VNNI inline float half(const char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Asks for every cache line of [p, p + n) ahead of its use; never faults.
BRICKS_AVX512_VNNI inline void prefetch_lines(const char* p, int64_t n) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto last = reinterpret_cast<uintptr_t>(p + n - 1);
  for (uintptr_t line = first; line <= last; line += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
  }
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

// q4_0 and q8_0: one row's decoder. Each step is 64 values, the blocks 2 * step and
// 2 * step + 1 (`one` when only the first exists: a row may end on half a step); chunk() gives
// the weights u and the lane scales a, with w = a * (u + kOffset).
template <WeightType T>
struct Direct;

template <>
struct Direct<WeightType::Q4_0> {
  static constexpr float kOffset = -8.0f;
  using B = model::BlockQ4_0;
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, bool one, __m512i& u,
                                       __m512& a) {
    const char* b0 = row + 2 * step * static_cast<int64_t>(sizeof(B));
    const char* b1 = one ? b0 : b0 + sizeof(B);
    u = nibble_pair(b0 + offsetof(B, qs), b1 + offsetof(B, qs));
    a = pair_scales(half(b0), one ? 0.0f : half(b1));
  }
};

template <>
struct Direct<WeightType::Q8_0> {
  static constexpr float kOffset = -128.0f;
  using B = model::BlockQ8_0;
  BRICKS_AVX512_VNNI static void chunk(const char* row, int64_t step, bool one, __m512i& u,
                                       __m512& a) {
    const char* b0 = row + 2 * step * static_cast<int64_t>(sizeof(B));
    const char* b1 = one ? b0 : b0 + sizeof(B);
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + offsetof(B, qs)));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + offsetof(B, qs)));
    u = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), bytes(0x80));
    a = pair_scales(half(b0), one ? 0.0f : half(b1));
  }
};

// ---- k-quants: scales applied per super-block ---------------------------------------------
//
// A super-block of 256 values is 4 chunks of 64. Once per super-block and row, scales() gives
// its group scales as one vector; multiplied by the activation's scales of the same groups
// (QuantizedActivations::k) it holds, per group, the factor of that group's integer dot
// product. The min (q4_K, q5_K) or offset (q6_K) term of the whole super-block is one more
// vector operation against the activation's group sums. Per chunk there is then one permute
// (the chunk's groups to its lanes) and one multiply-add per row and activation row.

// q4_K and q5_K: chunk c is the low nibbles of qs[32c .. 32c + 32) (sub-block 2c), then
// their high nibbles (sub-block 2c + 1); q5_K adds bit 2c or 2c + 1 of qh as 16.
template <class B>
struct SuperK4 {
  using Block = B;
  static constexpr bool kFive = requires(B blk) { blk.qh; };
  // Lanes 0-7: the 8 sub-block scales d * sc; lanes 8-15: the mins -dmin * mn.
  BRICKS_AVX512_VNNI static __m512 scales(const char* blk) {
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
    return _mm512_mul_ps(six, scale);
  }
  BRICKS_AVX512_VNNI static __m512i bits(const char* blk, int c) {
    const __m512i v = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qs) + 32 * c)));
    __m512i u = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4), bytes(15));
    if constexpr (kFive) {
      const __m512i qh = _mm512_broadcast_i64x4(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(B, qh))));
      const __m512i bit = _mm512_inserti64x4(bytes(1 << (2 * c)),
                                             _mm256_set1_epi8(static_cast<char>(2 << (2 * c))), 1);
      u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(qh, bit), u, bytes(16));
    }
    return u;
  }
  // Lanes 0-7 of chunk c belong to group 2c, lanes 8-15 to group 2c + 1.
  BRICKS_AVX512_VNNI static __m512i lanes(int c) {
    return _mm512_inserti64x4(_mm512_set1_epi32(2 * c), _mm256_set1_epi32(2 * c + 1), 1);
  }
  // The factors of the super-block's groups for one activation row `k` (its 48 floats), and
  // the min term added to acc: lanes 8-15 of ab * k[S32] are -dmin * mn_j * S_j.
  BRICKS_AVX512_VNNI static __m512 factors(__m512 ab, const float* k, __m512& acc) {
    const __m512 f = _mm512_mul_ps(ab, _mm512_loadu_ps(k + kSuperD32));  // d32 then S32
    acc = _mm512_mask_add_ps(acc, 0xFF00, acc, f);
    return f;
  }
};

// q6_K: chunk c is half h = c / 2 of the super-block; chunk 2h takes the low nibbles of
// ql[64h .. 64h + 64) with qh bits 0-1 (first 32) and 2-3 (next 32), chunk 2h + 1 the high
// nibbles with qh bits 4-5 and 6-7. Every weight is d * sc * (u - 32).
struct SuperQ6 {
  using B = model::BlockQ6_K;
  using Block = B;
  // The 16 group scales d * sc.
  BRICKS_AVX512_VNNI static __m512 scales(const char* blk) {
    const __m512i sc = _mm512_cvtepi8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(B, scales))));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(sc), _mm512_set1_ps(half(blk + offsetof(B, d))));
  }
  BRICKS_AVX512_VNNI static __m512i bits(const char* blk, int c) {
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
    return _mm512_or_si512(low, _mm512_and_si512(high, bytes(0x30)));
  }
  // Lane l of chunk c belongs to group 4c + l / 4.
  BRICKS_AVX512_VNNI static __m512i lanes(int c) {
    return _mm512_add_epi32(_mm512_set1_epi32(4 * c),
                            _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0));
  }
  // The offset term: sum over groups of a_g * -32 * S_g.
  BRICKS_AVX512_VNNI static __m512 factors(__m512 a, const float* k, __m512& acc) {
    acc = _mm512_fmadd_ps(a, _mm512_mul_ps(_mm512_loadu_ps(k + kSuperS16), _mm512_set1_ps(-32.0f)),
                          acc);
    return _mm512_mul_ps(a, _mm512_loadu_ps(k + kSuperD16));
  }
};

template <WeightType T>
struct Super;
template <>
struct Super<WeightType::Q4_K> : SuperK4<model::BlockQ4_K> {};
template <>
struct Super<WeightType::Q5_K> : SuperK4<model::BlockQ5_K> {};
template <>
struct Super<WeightType::Q6_K> : SuperQ6 {};

// R weight rows (n .. n + R) of a k-quant type against the MB activation rows i0 .. i0 + MB.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void super_tile(const QuantGemvArgs& a, int64_t n) {
  using S = Super<T>;
  constexpr int64_t kBlockBytes = sizeof(typename S::Block);
  const QuantizedActivations& x = *a.x;
  const int8_t* q[MB];
  const float* k[MB];
  for (int j = 0; j < MB; ++j) {
    q[j] = x.q.data() + (a.i0 + j) * x.padded;
    k[j] = x.k.data() + (a.i0 + j) * x.super_stride;
  }
  const char* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = a.w + (n + r) * a.row_bytes;
  VecF acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = fzero();
  const int64_t steps = a.cols / kQKK;
  for (int64_t st = 0; st < steps; ++st) {
    VecF f[R][MB];
    for (int r = 0; r < R; ++r) {
      // The same super-block of the next tile's rows: the rows of a tile are read side by
      // side, R streams that the hardware prefetcher alone follows too late.
      prefetch_lines(rows[r] + R * a.row_bytes + st * kBlockBytes, kBlockBytes);
      const __m512 ab = S::scales(rows[r] + st * kBlockBytes);
      for (int j = 0; j < MB; ++j) f[r][j] = S::factors(ab, k[j] + st * kSuperFloats, acc[r][j]);
    }
    for (int c = 0; c < kQKK / kBytes; ++c) {
      const int64_t kk = st * kQKK + c * kBytes;
      const __m512i idx = S::lanes(c);
      __m512i u[R];
      for (int r = 0; r < R; ++r) u[r] = S::bits(rows[r] + st * kBlockBytes, c);
      for (int j = 0; j < MB; ++j) {
        const __m512i xq = _mm512_loadu_si512(q[j] + kk);
        for (int r = 0; r < R; ++r) {
          const VecF dot =
              _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[r], xq));
          acc[r][j] = ffma(dot, _mm512_permutexvar_ps(idx, f[r][j]), acc[r][j]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[j * a.ldy + n + r] = fsum(acc[r][j]);
}

// R weight rows (n .. n + R) of q4_0 or q8_0 against the MB activation rows i0 .. i0 + MB.
template <WeightType T, int R, int MB>
BRICKS_AVX512_VNNI void direct_tile(const QuantGemvArgs& a, int64_t n) {
  using D = Direct<T>;
  constexpr int64_t kStepBytes = 2 * static_cast<int64_t>(sizeof(typename D::B));
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
  const int64_t steps = (a.cols + kBytes - 1) / kBytes;
  for (int64_t st = 0; st < steps; ++st) {
    const bool one = (st + 1) * kBytes > a.cols;
    const int64_t k = st * kBytes;
    const int64_t l = k / kQuantLane;
    __m512i u[R];
    VecF wa[R];
    for (int r = 0; r < R; ++r) {
      prefetch_lines(rows[r] + R * a.row_bytes + st * kStepBytes, kStepBytes);  // as super_tile
      D::chunk(rows[r], st, one, u[r], wa[r]);
    }
    for (int j = 0; j < MB; ++j) {
      const __m512i xq = _mm512_loadu_si512(q[j] + k);
      const VecF dj = fload(d[j] + l);
      // a * (dot * d + kOffset * s): the offset of every weight times the lane's sum.
      const VecF sj = fmul(fload(s[j] + l), _mm512_set1_ps(D::kOffset));
      for (int r = 0; r < R; ++r) {
        const VecF dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), u[r], xq));
        acc[r][j] = ffma(wa[r], ffma(dot, dj, sj), acc[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) a.y[j * a.ldy + n + r] = fsum(acc[r][j]);
}

// MB activation rows against the weight rows [n0, n1): R rows at a time, then one. The
// k-quants keep a factor vector per weight row and activation row besides the accumulators,
// so with 3 or 4 activation rows only 2 weight rows fit the 32 registers.
template <WeightType T, int MB>
BRICKS_AVX512_VNNI void register_rows(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  constexpr bool kSuper = T == WeightType::Q4_K || T == WeightType::Q5_K || T == WeightType::Q6_K;
  constexpr int R = kSuper && MB > 2 ? 2 : 4;
  auto tile = [&]<int Rows>(int64_t n) BRICKS_AVX512_VNNI {
    if constexpr (kSuper) {
      super_tile<T, Rows, MB>(a, n);
    } else {
      direct_tile<T, Rows, MB>(a, n);
    }
  };
  int64_t n = n0;
  for (; n + R <= n1; n += R) tile.template operator()<R>(n);
  for (; n < n1; ++n) tile.template operator()<1>(n);
}

// quant_gemv<T> for more than kDirectMaxRows activation rows, else decoding in registers.
template <WeightType T>
BRICKS_AVX512_VNNI void direct_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  static_assert(kDirectMaxRows == 4);
  switch (a.m) {
    case 1:
      return register_rows<T, 1>(a, n0, n1);
    case 2:
      return register_rows<T, 2>(a, n0, n1);
    case 3:
      return register_rows<T, 3>(a, n0, n1);
    case 4:
      return register_rows<T, 4>(a, n0, n1);
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
