// The k-quant kernels of AVX512_VNNI for many activation rows (batched decode, short
// prompts), on the transposed groups of quant_rows_avx512.h.
//
// q4_K and q5_K: a unit is a group of 32 values with its integer scale sc and min mn, which
// is also one block of activations; a group of 16 units is two super-blocks. Against the
// activations q of the unit with scale d_x and S = d_x * (sum of q), the unit contributes
//   d * sc * d_x * dot(u, q)  -  dmin * mn * S,
// f = d * sc and b = -dmin * mn per unit. q6_K: a unit is a group of 16 with its int8 scale,
// a group of units is one super-block; u = q6 + 32, and the offset goes into the integer sums
// (kIntOffset), f = d * sc.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared decoders

// 4 weight rows x 4 activation rows per tile: 16 integer sums and 4 activation chunks in
// registers while the chunks of a group go by.
constexpr int kTileRows = 4;
constexpr int kTileCols = 4;

// q4_K and q5_K: two super-blocks of 4 chunks each per group.
template <WeightType T>
struct K4Rows {
  using S = Super<T>;
  using B = typename S::Block;
  static constexpr int kChunks = 8;
  static constexpr int kIntOffset = 0;
  static constexpr bool kMins = true;
  static constexpr int64_t kGroupBytes = 2 * sizeof(B);
  static constexpr int kTileRows = detail::kTileRows;
  static constexpr int kTileCols = detail::kTileCols;

  // 16 bytes as floats, the first 8 times lo and the last 8 times hi.
  BRICKS_AVX512_VNNI static __m512 per_unit(__m128i bytes16, float lo, float hi) {
    const __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes16));
    return _mm512_mul_ps(v, _mm512_insertf32x8(_mm512_set1_ps(lo), _mm256_set1_ps(hi), 1));
  }

  BRICKS_AVX512_VNNI static void group(const char* row, int64_t cols, int64_t g, __m512i v[8],
                                       __m512& f, __m512& b) {
    __m128i six[2];  // per super-block sc[0..8) then mn[0..8)
    float d[2], dmin[2];
    for (int h = 0; h < 2; ++h) {
      const int64_t st = 2 * g + h;
      if (st >= cols / kQKK) {
        for (int c = 0; c < 4; ++c) v[4 * h + c] = _mm512_setzero_si512();
        six[h] = _mm_setzero_si128();
        d[h] = dmin[h] = 0.0f;
        continue;
      }
      const char* blk = row + st * static_cast<int64_t>(sizeof(B));
      for (int c = 0; c < 4; ++c) v[4 * h + c] = S::bits(blk, c);
      six[h] = S::six_bits(blk);
      d[h] = half(blk + offsetof(B, d));
      dmin[h] = -half(blk + offsetof(B, dmin));
    }
    f = per_unit(_mm_unpacklo_epi64(six[0], six[1]), d[0], d[1]);
    b = per_unit(_mm_unpackhi_epi64(six[0], six[1]), dmin[0], dmin[1]);
  }
};

// q6_K: one super-block of 4 chunks per group.
struct Q6Rows {
  using B = model::BlockQ6_K;
  static constexpr int kChunks = 4;
  static constexpr int kIntOffset = 32;
  static constexpr bool kMins = false;
  static constexpr int64_t kGroupBytes = sizeof(B);
  static constexpr int kTileRows = detail::kTileRows;
  static constexpr int kTileCols = detail::kTileCols;

  BRICKS_AVX512_VNNI static void group(const char* row, int64_t /*cols*/, int64_t g, __m512i v[4],
                                       __m512& f, __m512& /*b*/) {
    const char* blk = row + g * static_cast<int64_t>(sizeof(B));
    for (int c = 0; c < 4; ++c) v[c] = SuperQ6::bits(blk, c);
    f = SuperQ6::scales(blk);  // d * sc
  }
};

}  // namespace

QuantGemvFn quant_rows_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q4_K:
      return rows_gemv<K4Rows<WeightType::Q4_K>>;
    case WeightType::Q5_K:
      return rows_gemv<K4Rows<WeightType::Q5_K>>;
    case WeightType::Q6_K:
      return rows_gemv<Q6Rows>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
