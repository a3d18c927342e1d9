// The q8_0 and q4_0 kernels of AVX512_VNNI for many activation rows (batched decode, short
// prompts), on the transposed groups of quant_rows_avx512.h.
//
// A unit is one block of 32 values, w = a * (u + kOffset) with u unsigned and a the block's
// scale (Direct<T> in quant_decode_avx512.h); a group of 16 units is 8 chunks of 64. The
// offset goes into the integer sums (kIntOffset): each unit's sum is exactly sum w q / a,
// at most 32 * 128 * 127, and f = a.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared decoders

// The kernel of type T for rows_gemv (quant_rows_avx512.h).
template <WeightType T>
struct QRows {
  using B = typename Direct<T>::B;
  static constexpr int kChunks = 8;
  static constexpr int kIntOffset = -static_cast<int>(Direct<T>::kOffset);
  static constexpr bool kMins = false;
  static constexpr int64_t kGroupBytes = kUnits * sizeof(B);
  // 4 weight rows x 4 activation rows per tile, as the k-quants.
  static constexpr int kTileRows = 4;
  static constexpr int kTileCols = 4;

  BRICKS_AVX512_VNNI static void group(const char* row, int64_t cols, int64_t g, __m512i v[8],
                                       __m512& f, __m512& /*b*/) {
    for (int k = 0; k < 8; ++k) {
      const int64_t st = 8 * g + k;  // Direct's step of 64 values
      if (st * 64 >= cols) {
        v[k] = _mm512_setzero_si512();
        continue;
      }
      __m512 lanes;
      Direct<T>::chunk(row + 2 * st * static_cast<int64_t>(sizeof(B)), (st + 1) * 64 > cols, v[k],
                       lanes);
    }
    // The 16 blocks' f16 scales (each block's first 2 bytes), 0 past the row's end.
    const int64_t blocks = cols / kQuantBlock - kUnits * g;
    const auto valid = static_cast<__mmask16>(blocks >= kUnits ? 0xFFFF : (1u << blocks) - 1);
    const __m512i at =
        _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                           _mm512_set1_epi32(static_cast<int>(sizeof(B))));
    const __m512i words = _mm512_mask_i32gather_epi32(
        _mm512_setzero_si512(), valid, at, row + kUnits * g * static_cast<int64_t>(sizeof(B)), 1);
    f = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(words));
  }
};

}  // namespace

QuantGemvFn quant_rows_q8_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return rows_gemv<QRows<WeightType::Q8_0>>;
    case WeightType::Q4_0:
      return rows_gemv<QRows<WeightType::Q4_0>>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
