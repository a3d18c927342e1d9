// The AVX512_VNNI kernels of weights in the lane layout (weight_lanes.h): q8_0 and q4_K, for
// every number of activation rows.
//
// The activation rows of a call are transposed once into the same lane order
// (prepare_activations of quant_rows_avx512.h), so chunk c of a weight group and chunk c of an
// activation group hold the same 4 values of the same unit (a block of 32, or a q4_K
// sub-block) in each lane. Per group and pair of weight row and activation row: 8 vpdpbusd
// into one register, which leaves in each lane the unit's exact integer dot product (for q8_0,
// whose weights are stored as q + 128, the register starts at -128 * the unit's activation
// sum); then one conversion and one multiply-add by the product of the two scales, and for
// q4_K one more by the unit's min against its activation sum.
// A tile is R weight rows against MB activation rows; at one activation row the tiles take
// rows from the two halves of the range (register_tiles, quant_dot.h) and ask for the
// weights kAheadRows further, as the kernels on the file's layout do.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "cpu/prefetch.h"
#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"
#include "cpu/weight_lanes.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared transposes

constexpr int kC = static_cast<int>(kLaneChunks);
static_assert(kC == 8 && kLaneGroupUnits == kUnits);
static_assert([] {
  for (int l = 0; l < 16; ++l) {
    if (lane_unit(l) != unit_of_lane<8>(l)) return false;
  }
  return true;
}());

// q8_0: chunk c is the c-th 64 bytes of the group; the scales are the 16 blocks' f16.
struct Q8Lanes {
  static constexpr int64_t kGroupWeights = kLaneGroupValues;
  static constexpr int kOffset = 128;
  static constexpr bool kMins = false;
  static constexpr int kChunksPerLoad = 1;
  static constexpr int kOddShift = 0;
  template <bool kScaled>
  BRICKS_AVX512_VNNI static __m512i chunk(__m512i v, int /*k*/) {
    return v;
  }
  BRICKS_AVX512_VNNI static void scales(const char* s, __m512& f, __m512& /*m*/) {
    f = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
  }
};

// q4_K: chunk 2p is the low nibbles of the p-th 64 bytes, chunk 2p + 1 their high nibbles; the
// scales are the packed sc and mn of the 16 sub-blocks and the two super-blocks' d and dmin
// (weight_lanes.h).
struct Q4KLanes {
  static constexpr int64_t kGroupWeights = kLaneGroupValues / 2;
  static constexpr int kOffset = 0;
  static constexpr bool kMins = true;
  // 64 bytes hold two chunks: k = 0 the low nibbles, k = 1 the high ones. kScaled leaves the
  // high nibbles in place, one operation fewer, as 16 times their values: a sum of odd chunks
  // alone is then 16 times its value, exactly.
  static constexpr int kChunksPerLoad = 2;
  static constexpr int kOddShift = 4;
  template <bool kScaled>
  BRICKS_AVX512_VNNI static __m512i chunk(__m512i v, int k) {
    if (k == 0) return _mm512_and_si512(v, _mm512_set1_epi8(15));
    if constexpr (kScaled) return _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(0xf0)));
    return _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(15));
  }
  // f = d * sc and m = dmin * mn per unit, in lane order.
  BRICKS_AVX512_VNNI static void scales(const char* s, __m512& f, __m512& m) {
    const __m512i low = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
    const __m512i shifts =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i three = _mm512_set1_epi32(3), fifteen = _mm512_set1_epi32(15);
    const __m512i sc_high = _mm512_and_si512(
        _mm512_srlv_epi32(_mm512_set1_epi32(load_u32(s + kLaneScHigh)), shifts), three);
    const __m512i mn_high = _mm512_and_si512(
        _mm512_srlv_epi32(_mm512_set1_epi32(load_u32(s + kLaneMnHigh)), shifts), three);
    const __m512i sc =
        _mm512_or_si512(_mm512_and_si512(low, fifteen), _mm512_slli_epi32(sc_high, 4));
    const __m512i mn = _mm512_or_si512(_mm512_srli_epi32(low, 4), _mm512_slli_epi32(mn_high, 4));
    // d0, d1, dmin0, dmin1 as floats in lanes 0-3; each lane takes its super-block's.
    const __m512i super = _mm512_loadu_si512(kSuperIndex.data());
    const __m512 dd = _mm512_castps128_ps512(
        _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + kLaneScaleHalves))));
    f = _mm512_mul_ps(_mm512_cvtepi32_ps(sc), _mm512_permutexvar_ps(super, dd));
    m = _mm512_mul_ps(_mm512_cvtepi32_ps(mn),
                      _mm512_permutexvar_ps(_mm512_add_epi32(super, _mm512_set1_epi32(2)), dd));
  }
  BRICKS_AVX512_VNNI static int load_u32(const char* p) {
    int v;
    __builtin_memcpy(&v, p, 4);
    return v;
  }
  // The super-block (0 or 1) of each lane's unit.
  static constexpr std::array<int, 16> kSuperIndex = [] {
    std::array<int, 16> index{};
    for (int l = 0; l < 16; ++l) index[l] = lane_unit(l) / 8;
    return index;
  }();
};

// R weight rows n, n + spacing, ... against the MB prepared activation rows i .. i + MB.
template <class F, int R, int MB>
BRICKS_AVX512_VNNI void lanes_tile(const QuantGemvArgs& a, const PreparedRows<kC>& x, int64_t n,
                                   int64_t spacing, int64_t i) {
  constexpr int64_t kGroupWeights = F::kGroupWeights;
  const int64_t groups = x.groups;
  const int64_t row_weights = groups * kGroupWeights;
  const char* w = a.w + n * row_weights;
  const char* s = a.scales + n * groups * kLaneGroupScales;
  const int64_t w_stride = spacing * row_weights, s_stride = spacing * groups * kLaneGroupScales;
  const int64_t ahead = ahead_rows(R, spacing) * row_weights;
  const int64_t ahead_scales = ahead_rows(R, spacing) * groups * kLaneGroupScales;
  // The integer sums of a group run as separate chains of vpdpbusd, so that fewer wait on each
  // other's latency: 4 chains (chunk c in chain c % 4) up to 4 pairs of weight row and
  // activation row, 2 below 8 pairs, else one. Odd chunks are never in an even chunk's chain,
  // so q4_K's odd chunks can keep their nibbles high (kOddShift). One thread on q8_0 weights in
  // L2 read 80-89 GB/s with 2 chains against 75-78 with one. 4 chains, each 64 bytes loaded
  // once and kOddShift together made q4_K at one activation row 1.10x [1.07-1.13] as fast as 2
  // chains (6 alternated rounds of GemvCached), and left q8_0 as fast.
  constexpr int kChains = R * MB <= 4 ? 4 : R * MB < 8 ? 2 : 1;
  __m512 acc[R][MB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, w += kGroupWeights, s += kLaneGroupScales) {
    // The weight matrices start on a cache line and a group of a row is whole lines.
    for (int r = 0; r < R; ++r) prefetch_whole_lines<kGroupWeights>(w + r * w_stride + ahead);
    // The scales as far ahead, one request per 64 bytes (two groups): left to the hardware
    // prefetcher, each row's scales were a stream of their own beside its weights. Batch-1 decode
    // of the q4_k_m file 1.03x (median of 8 alternated runs [0.94-1.09]), DecodeLayers q4_K lanes 2
    // threads 1.035x and 1.05x (10 rounds each), q8_0 1.02x; in L2 (GemvCached, one thread)
    // q4_K m = 1 0.975x, m = 16 0.995x.
    if (g % 2 == 0) {
      for (int r = 0; r < R; ++r) _mm_prefetch(s + r * s_stride + ahead_scales, _MM_HINT_T0);
    }
    const char* xg[MB];
    for (int j = 0; j < MB; ++j) xg[j] = x.group(i + j, g);
    __m512i dot[kChains][R][MB];
    for (int j = 0; j < MB; ++j) {
      const __m512i offset =
          F::kOffset != 0 ? _mm512_loadu_si512(xg[j] + 64 * (kC + 2)) : _mm512_setzero_si512();
      for (int r = 0; r < R; ++r) {
        dot[0][r][j] = offset;
        for (int h = 1; h < kChains; ++h) dot[h][r][j] = _mm512_setzero_si512();
      }
    }
    constexpr int kPerLoad = F::kChunksPerLoad;
#pragma GCC unroll 8
    for (int p = 0; p < kC / kPerLoad; ++p) {
      // Each 64 bytes of weights loads once: left to itself the compiler reads them again for
      // every chunk they hold, as operands of the masking, and the loads bound the kernel.
      __m512i raw[R];
      for (int r = 0; r < R; ++r) {
        raw[r] = _mm512_loadu_si512(w + r * w_stride + 64 * p);
        __asm__("" : "+v"(raw[r]));
      }
      for (int k = 0; k < kPerLoad; ++k) {
        const int c = p * kPerLoad + k;
        __m512i xc[MB];
        for (int j = 0; j < MB; ++j) xc[j] = _mm512_loadu_si512(xg[j] + 64 * c);
        for (int r = 0; r < R; ++r) {
          const __m512i wc = F::template chunk<(kChains > 1)>(raw[r], k);
          for (int j = 0; j < MB; ++j) {
            __m512i& d = dot[c % kChains][r][j];
            d = _mm512_dpbusd_epi32(d, wc, xc[j]);
          }
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      __m512 f, m;
      F::scales(s + r * s_stride, f, m);
      for (int j = 0; j < MB; ++j) {
        __m512i sum = dot[0][r][j];
        if constexpr (kChains == 2) {
          sum = _mm512_add_epi32(sum, _mm512_srai_epi32(dot[1][r][j], F::kOddShift));
        } else if constexpr (kChains == 4) {
          const __m512i odd = _mm512_add_epi32(dot[1][r][j], dot[3][r][j]);
          sum = _mm512_add_epi32(_mm512_add_epi32(sum, dot[2][r][j]),
                                 _mm512_srai_epi32(odd, F::kOddShift));
        }
        const __m512 scale = _mm512_mul_ps(f, _mm512_loadu_ps(xg[j] + 64 * kC));
        acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[r][j]);
        if constexpr (F::kMins) {
          acc[r][j] = _mm512_fnmadd_ps(m, _mm512_loadu_ps(xg[j] + 64 * (kC + 1)), acc[r][j]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < MB; ++j)
      a.y[(i + j) * a.ldy + n + r * spacing] = _mm512_reduce_add_ps(acc[r][j]);
}

// Weight rows [n0, n1) against activation rows i .. i + MB: 4 rows at a time, then one. With 4
// activation rows the tile's accumulators spill, and still 2 weight rows at a time ran slower
// from memory (q8_0 5632 x 2048, 2 threads: 22 against 48-50 GB/s).
template <class F, int MB>
BRICKS_AVX512_VNNI void lanes_rows(const QuantGemvArgs& a, const PreparedRows<kC>& x, int64_t n0,
                                   int64_t n1, int64_t i) {
  register_tiles<4, false>(n0, n1, [&]<int Rows>(int64_t n, int64_t spacing) BRICKS_AVX512_VNNI {
    lanes_tile<F, Rows, MB>(a, x, n, spacing, i);
  });
}

// Weight rows that a panel holds for all tiles of activation rows: read from memory by the
// first tile, from L1 or L2 by the others.
constexpr int64_t kPanelRows = 16;

template <class F>
BRICKS_AVX512_VNNI void lanes_gemv(const QuantGemvArgs& a, int64_t n0, int64_t n1) {
  thread_local PreparedRows<kC> x;
  prepare_activations<kC>(a, F::kOffset, x);
  if (a.m == 1) {
    register_tiles<4, true>(n0, n1, [&]<int Rows>(int64_t n, int64_t spacing) BRICKS_AVX512_VNNI {
      lanes_tile<F, Rows, 1>(a, x, n, spacing, 0);
    });
    return;
  }
  for (int64_t n = n0; n < n1; n += kPanelRows) {
    const int64_t end = std::min(n + kPanelRows, n1);
    even_row_tiles(
        a.m, [&]<int MB>(int64_t i) BRICKS_AVX512_VNNI { lanes_rows<F, MB>(a, x, n, end, i); });
  }
}

}  // namespace

QuantGemvFn quant_lanes_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q8_0:
      return lanes_gemv<Q8Lanes>;
    case WeightType::Q4_K:
      return lanes_gemv<Q4KLanes>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
