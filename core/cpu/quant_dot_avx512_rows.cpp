// The k-quant kernels of AVX512_VNNI for many activation rows (batched decode, short
// prompts): the products are summed in int32 per group and scaled in f32 once per 128 values.
//
// With u the weights' unsigned values, sc_g the integer scale of group g, b_g its min (q4_K,
// q5_K: -dmin * mn_g) or offset (q6_K: -32 * d * sc_g), d_x the activation scale of the
// group's block of 32 and S_g = d_x * (sum of the group's q), a super-block of one weight row
// against one activation row is
//   d_w * sum_g d_x * sc_g * dot(u_g, q_g)  +  sum_g b_g * S_g.
// Per two chunks of 64 values: vpdpbusd gives each chunk's int32 sums of 4 products (at most
// 4 * 63 * 127, within int16), vpackssdw packs the two chunks into one vector of int16
// without saturating, vpmaddwd multiplies those by their group's int16 scale and adds
// neighbours (lanes of one group and one activation block), and one multiply-add applies
// d_x per lane, permuted from the super-block's 8 block scales (kSuperD32). The activations keep
// their blocks of 32, so every kernel family rounds them alike and the tokens do not depend on how
// many rows a step has. Per 128 values and pair of weight row and activation row that is four
// multiplying instructions, against ten for the unpacked rows of quant_dot_tile.inc.
//
// The rows are unpacked into panels (u, the scales in packed-lane order, d_w and b per
// super-block, KLayout) that every tile of activation rows reuses (rows_gemv,
// quant_rows_avx512.h).
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "cpu/quant_decode_avx512.h"
#include "cpu/quant_dot.h"
#include "cpu/quant_rows_avx512.h"

namespace bricks::cpu::detail {
namespace {

using namespace avx512;  // NOLINT(google-build-using-namespace): the shared decoders

constexpr int64_t kChunks = kQKK / 64;  // 64-value chunks per super-block

// R weight rows unpacked side by side, in the order the tiles read them. Per super-block:
// for each pair of chunks and each row a panel of kPanel bytes, the chunks' 2 x 64 values u
// (0 .. 63) then the int16 group scale of each lane of their packed sums (pair_lane); then
// per row d_w and 16 floats b_g (q4_K, q5_K use 8).
constexpr int64_t kPanel = 192;
constexpr int kChunkPairs = kChunks / 2;

template <int R>
struct KLayout {
  static constexpr int64_t kPairBytes = R * kPanel;
  static constexpr int64_t kSuperBytes = kChunkPairs * kPairBytes;
  // The buffer holds the panels [supers][kChunkPairs][R], then d [supers][R], then b
  // [supers][R][16]; these are the byte offsets of d and b, and the size.
  static int64_t d_at(int64_t cols) { return cols / kQKK * kSuperBytes; }
  static int64_t b_at(int64_t cols) { return d_at(cols) + cols / kQKK * R * 4; }
  static size_t bytes(int64_t cols) {
    return static_cast<size_t>(b_at(cols) + cols / kQKK * R * 64);
  }
};

// The sums of chunks 2h and 2h + 1 (16 int32 lanes each, every lane 4 values of one group)
// packed to int16 by vpackssdw, which interleaves them per 128 bits: lane p of the packed
// vector is lane 4 (p / 8) + p % 4 of chunk 2h + (p % 8) / 4. This is the chunk and lane.
constexpr int pair_chunk(int h, int p) { return 2 * h + (p % 8) / 4; }
constexpr int pair_lane(int p) { return 4 * (p / 8) + p % 4; }

// vpmaddwd sums int16 lanes 2t and 2t + 1 of the packed vector into int32 lane t: both from
// lane pair_lane(2t) (or the next, of the same group and activation block) of chunk
// pair_chunk(h, 2t). This is, per t, the index of that lane's activation block of 32 in its
// super-block, to permute the super-block's 8 block scales (kSuperD32) with.
template <int H>
constexpr std::array<int, 16> kPairBlocks = [] {
  std::array<int, 16> index{};
  for (int t = 0; t < 16; ++t) index[t] = 2 * pair_chunk(H, 2 * t) + pair_lane(2 * t) / 8;
  return index;
}();

// For chunk pair h of type K (K::group(c, l) the group of lane l of chunk c): the group of
// each int16 lane of the packed sums, to permute the super-block's 16 scales with.
template <class K, int H>
constexpr std::array<int16_t, 32> kPairGroups = [] {
  std::array<int16_t, 32> index{};
  for (int p = 0; p < 32; ++p)
    index[p] = static_cast<int16_t>(K::group(pair_chunk(H, p), pair_lane(p)));
  return index;
}();

// Per k-quant type: the group scales of a super-block as 16 int16 (groups in order, 8 used
// by q4_K / q5_K), the group of int32 lane l of chunk c, and d_w and b.
template <WeightType T>
struct KScales;

template <class Block>
struct KScalesK4 {
  using B = Block;
  using S = SuperK4<B>;
  BRICKS_AVX512_VNNI static __m256i groups(const char* blk) {
    return _mm256_cvtepu8_epi16(S::six_bits(blk));  // sc[0..8) then mn[0..8)
  }
  // The group of int32 lane l (values 4l .. 4l + 4) of chunk c.
  static constexpr int group(int c, int l) { return 2 * c + l / 8; }
  BRICKS_AVX512_VNNI static float d(const char* blk) { return half(blk + offsetof(B, d)); }
  // b = -dmin * mn in lanes 0-7, zero in lanes 8-15.
  BRICKS_AVX512_VNNI static void mins(const char* blk, __m256i groups, float* b) {
    const __m256 mn =
        _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(groups, 1)));
    const __m256 dmin = _mm256_set1_ps(-half(blk + offsetof(B, dmin)));
    _mm512_storeu_ps(b, _mm512_castps256_ps512(_mm256_mul_ps(mn, dmin)));
  }
  // The activation's S_g of the super-block whose 48 floats start at k.
  BRICKS_AVX512_VNNI static __m512 sums(const float* k) {
    return _mm512_maskz_loadu_ps(0xFF, k + kSuperS32);
  }
};

template <>
struct KScales<WeightType::Q4_K> : KScalesK4<model::BlockQ4_K> {};
template <>
struct KScales<WeightType::Q5_K> : KScalesK4<model::BlockQ5_K> {};

template <>
struct KScales<WeightType::Q6_K> {
  using B = model::BlockQ6_K;
  using S = SuperQ6;
  BRICKS_AVX512_VNNI static __m256i groups(const char* blk) {
    return _mm256_cvtepi8_epi16(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(B, scales))));
  }
  static constexpr int group(int c, int l) { return 4 * c + l / 4; }
  BRICKS_AVX512_VNNI static float d(const char* blk) { return half(blk + offsetof(B, d)); }
  BRICKS_AVX512_VNNI static void mins(const char* blk, __m256i groups, float* b) {
    const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(groups));
    _mm512_storeu_ps(b, _mm512_mul_ps(sc, _mm512_set1_ps(-32.0f * d(blk))));
  }
  BRICKS_AVX512_VNNI static __m512 sums(const float* k) { return _mm512_loadu_ps(k + kSuperS16); }
};

// Unpacks row r of R (at `row`) into the panels, d and b of KLayout<R>.
template <WeightType T, int R>
BRICKS_AVX512_VNNI void unpack_row(const char* row, int64_t cols, int r, char* panels, float* d,
                                   float* b) {
  using K = KScales<T>;
  using S = typename K::S;
  constexpr auto kBlockBytes = static_cast<int64_t>(sizeof(typename K::B));
  const __m512i index[kChunkPairs] = {_mm512_loadu_si512(kPairGroups<K, 0>.data()),
                                      _mm512_loadu_si512(kPairGroups<K, 1>.data())};
  for (int64_t st = 0; st < cols / kQKK; ++st) {
    const char* blk = row + st * kBlockBytes;
    const __m256i g = K::groups(blk);
    const __m512i g512 = _mm512_castsi256_si512(g);
    for (int h = 0; h < kChunkPairs; ++h) {
      char* p = panels + st * KLayout<R>::kSuperBytes + h * KLayout<R>::kPairBytes + r * kPanel;
      _mm512_storeu_si512(p, S::bits(blk, 2 * h));
      _mm512_storeu_si512(p + 64, S::bits(blk, 2 * h + 1));
      _mm512_storeu_si512(p + 128, _mm512_permutexvar_epi16(index[h], g512));
    }
    d[st * R + r] = K::d(blk);
    K::mins(blk, g, b + (st * R + r) * 16);
  }
}

// The kernel of k-quant type T for rows_gemv (quant_rows_avx512.h).
template <WeightType T>
struct KRows {
  using K = KScales<T>;
  // 4 x 4 tiles. Per chunk pair a tile loads the activations of its 4 rows (values and
  // scales) once, then each weight row's panel once, and runs it against all 4; 16 f32
  // partials. On the AVX-512 EPYC (Zen 5), bench_kernels Crossover, q4_K at 16 rows: 4 x 2
  // tiles that loaded each panel once per activation row 200-240 GFLOP/s, 4 x 3 285-300,
  // 4 x 4 330-360, 4 x 5 350-355, 4 x 6 310-320 (2 threads).
  static constexpr int kTileRows = 4;
  static constexpr int kTileCols = 4;

  template <int R>
  static size_t panel_bytes(int64_t cols) {
    return KLayout<R>::bytes(cols);
  }

  template <int R>
  BRICKS_AVX512_VNNI static void unpack(const QuantGemvArgs& a, int64_t n, char* panels) {
    auto* d = reinterpret_cast<float*>(panels + KLayout<R>::d_at(a.cols));
    auto* b = reinterpret_cast<float*>(panels + KLayout<R>::b_at(a.cols));
    for (int r = 0; r < R; ++r) {
      unpack_row<T, R>(a.w + (n + r) * a.row_bytes, a.cols, r, panels, d, b);
    }
  }

  // R unpacked rows (weight rows n .. n + R) against the MB activation rows i .. i + MB.
  // With `ahead`, also asks for the next R weight rows, a super-block of each per
  // super-block here, so that their unpacking finds them in cache.
  template <int R, int MB>
  BRICKS_AVX512_VNNI static void tile(const QuantGemvArgs& a, const char* panels, int64_t n,
                                      int64_t i, const char* ahead) {
    constexpr auto kBlockBytes = static_cast<int64_t>(sizeof(typename K::B));
    const QuantizedActivations& x = *a.x;
    const int8_t* q[MB];
    const float* k[MB];
    for (int j = 0; j < MB; ++j) {
      q[j] = x.q.data() + (a.i0 + i + j) * x.padded;
      k[j] = x.k.data() + (a.i0 + i + j) * x.super_stride;
    }
    const __m512i block_index[kChunkPairs] = {_mm512_loadu_si512(kPairBlocks<0>.data()),
                                              _mm512_loadu_si512(kPairBlocks<1>.data())};
    __m512 acc[R][MB];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
    const char* panel = panels;
    const auto* wd = reinterpret_cast<const float*>(panels + KLayout<R>::d_at(a.cols));
    const auto* wb = reinterpret_cast<const float*>(panels + KLayout<R>::b_at(a.cols));
    for (int64_t st = 0; st < a.cols / kQKK; ++st) {
      if (ahead != nullptr) {
        for (int r = 0; r < R; ++r) {
          prefetch_lines(ahead + r * a.row_bytes + st * kBlockBytes, kBlockBytes);
        }
      }
      // Per pair: the super-block's sums times the activation scale of each lane, in f32.
      __m512 part[R][MB];
      __m512 dk[MB];  // the 8 block scales of each activation row's super-block
      for (int j = 0; j < MB; ++j) dk[j] = _mm512_loadu_ps(k[j] + st * kSuperFloats + kSuperD32);
      for (int h = 0; h < kChunkPairs; ++h, panel += KLayout<R>::kPairBytes) {
        const int64_t kk = st * kQKK + h * 128;
        __m512i x0[MB], x1[MB];
        __m512 dj[MB];
        for (int j = 0; j < MB; ++j) {
          x0[j] = _mm512_loadu_si512(q[j] + kk);
          x1[j] = _mm512_loadu_si512(q[j] + kk + 64);
          dj[j] = _mm512_permutexvar_ps(block_index[h], dk[j]);
        }
        for (int r = 0; r < R; ++r) {
          const char* pr = panel + r * kPanel;
          const __m512i w0 = _mm512_loadu_si512(pr);
          const __m512i w1 = _mm512_loadu_si512(pr + 64);
          const __m512i sc = _mm512_loadu_si512(pr + 128);
          for (int j = 0; j < MB; ++j) {
            const __m512i zero = _mm512_setzero_si512();
            const __m512i t0 = _mm512_dpbusd_epi32(zero, w0, x0[j]);
            const __m512i t1 = _mm512_dpbusd_epi32(zero, w1, x1[j]);
            const __m512 sums =
                _mm512_cvtepi32_ps(_mm512_madd_epi16(_mm512_packs_epi32(t0, t1), sc));
            part[r][j] =
                h == 0 ? _mm512_mul_ps(sums, dj[j]) : _mm512_fmadd_ps(sums, dj[j], part[r][j]);
          }
        }
      }
      // Times d_w, and the min or offset term.
      for (int j = 0; j < MB; ++j) {
        const __m512 s = K::sums(k[j] + st * kSuperFloats);
        for (int r = 0; r < R; ++r) {
          acc[r][j] = _mm512_fmadd_ps(part[r][j], _mm512_set1_ps(wd[st * R + r]), acc[r][j]);
          acc[r][j] = _mm512_fmadd_ps(_mm512_loadu_ps(wb + (st * R + r) * 16), s, acc[r][j]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < MB; ++j) a.y[(i + j) * a.ldy + n + r] = _mm512_reduce_add_ps(acc[r][j]);
  }
};

}  // namespace

QuantGemvFn quant_rows_avx512_vnni(WeightType t) {
  switch (t) {
    case WeightType::Q4_K:
      return rows_gemv<KRows<WeightType::Q4_K>>;
    case WeightType::Q5_K:
      return rows_gemv<KRows<WeightType::Q5_K>>;
    case WeightType::Q6_K:
      return rows_gemv<KRows<WeightType::Q6_K>>;
    default:
      return nullptr;
  }
}

}  // namespace bricks::cpu::detail
