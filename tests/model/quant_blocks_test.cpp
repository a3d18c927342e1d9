// ggml's block formats: hand-built blocks decoded through to_f32 against values worked out by
// hand from the layouts in quant_blocks.h, quantize round trips (exact on representable
// blocks, bounded error on Gaussian data), the sizes of every type, and the reader refusing
// rows that are not whole blocks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "bricks/model/dtype.h"
#include "bricks/model/gguf.h"
#include "bricks/model/quant_blocks.h"
#include "test_files.h"

namespace bricks::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

template <class Block>
std::vector<float> decode(DType t, const Block& b) {
  std::vector<float> y(static_cast<size_t>(dtype_block(t).values));
  to_f32(t, &b, y);
  return y;
}

uint16_t half(float x) { return f32_to_f16(x); }

// ---- Hand-built blocks -------------------------------------------------------------------

TEST(QuantBlockLayout, Q4_0) {
  BlockQ4_0 b{};
  b.d = half(0.5f);
  std::memset(b.qs, 0x88, sizeof b.qs);  // code 8 everywhere: value 0
  b.qs[0] = 0x1F;  // y[0] = 0.5 * (15 - 8) = 3.5,  y[16] = 0.5 * (1 - 8) = -3.5
  b.qs[1] = 0x80;  // y[1] = 0.5 * (0 - 8) = -4,    y[17] = 0.5 * (8 - 8) = 0
  const auto y = decode(DType::Q4_0, b);
  EXPECT_EQ(y[0], 3.5f);
  EXPECT_EQ(y[16], -3.5f);
  EXPECT_EQ(y[1], -4.f);
  EXPECT_EQ(y[17], 0.f);
  EXPECT_EQ(y[31], 0.f);
}

TEST(QuantBlockLayout, Q4_1) {
  BlockQ4_1 b{};
  b.d = half(0.25f);
  b.m = half(-1.f);
  b.qs[0] = 0xF0;  // y[0] = 0.25 * 0 - 1 = -1,      y[16] = 0.25 * 15 - 1 = 2.75
  b.qs[2] = 0x35;  // y[2] = 0.25 * 5 - 1 = 0.25,    y[18] = 0.25 * 3 - 1 = -0.25
  const auto y = decode(DType::Q4_1, b);
  EXPECT_EQ(y[0], -1.f);
  EXPECT_EQ(y[16], 2.75f);
  EXPECT_EQ(y[2], 0.25f);
  EXPECT_EQ(y[18], -0.25f);
  EXPECT_EQ(y[1], -1.f);  // code 0: the minimum
}

TEST(QuantBlockLayout, Q5_0) {
  BlockQ5_0 b{};
  b.d = half(1.f);
  // qh as a little-endian u32 with bits 0 and 17 set: byte 0 bit 0, byte 2 bit 1.
  b.qh[0] = 0x01;
  b.qh[2] = 0x02;
  b.qs[0] = 0x2F;  // y[0] = (15 | 1 << 4) - 16 = 15, y[16] = (2 | bit 16 = 0) - 16 = -14
  b.qs[1] = 0x00;  // y[1] = (0 | bit 1 = 0) - 16 = -16, y[17] = (0 | 1 << 4) - 16 = 0
  const auto y = decode(DType::Q5_0, b);
  EXPECT_EQ(y[0], 15.f);
  EXPECT_EQ(y[16], -14.f);
  EXPECT_EQ(y[1], -16.f);
  EXPECT_EQ(y[17], 0.f);
}

TEST(QuantBlockLayout, Q5_1) {
  BlockQ5_1 b{};
  b.d = half(0.5f);
  b.m = half(2.f);
  b.qh[3] = 0x80;   // bit 31: the fifth bit of y[31]
  b.qs[15] = 0x4A;  // y[15] = 0.5 * 10 + 2 = 7, y[31] = 0.5 * (4 | 16) + 2 = 12
  const auto y = decode(DType::Q5_1, b);
  EXPECT_EQ(y[15], 7.f);
  EXPECT_EQ(y[31], 12.f);
  EXPECT_EQ(y[0], 2.f);
}

TEST(QuantBlockLayout, Q8_0) {
  BlockQ8_0 b{};
  b.d = half(0.25f);
  b.qs[0] = -128;  // y[0] = 0.25 * -128 = -32
  b.qs[31] = 127;  // y[31] = 0.25 * 127 = 31.75
  const auto y = decode(DType::Q8_0, b);
  EXPECT_EQ(y[0], -32.f);
  EXPECT_EQ(y[31], 31.75f);
  EXPECT_EQ(y[5], 0.f);
}

// Sub-blocks 0 and 1 take their 6-bit scale and min from the low bits of bytes j and j + 4;
// sub-blocks 4..7 from the nibbles of byte j + 4 with the top two bits in bytes j - 4 (scale)
// and j (min).
TEST(QuantBlockLayout, Q4_K) {
  BlockQ4_K b{};
  b.d = half(1.f);
  b.dmin = half(0.5f);
  b.scales[0] = 2;     // sub-block 0: scale 2
  b.scales[4] = 3;     //              min 3:   y = 2q - 1.5
  b.scales[1] = 0x87;  // sub-block 1: scale 7 (low 6 bits); top bits 2 belong to sub-block 5
  b.scales[5] = 0x41;  //              min 1:   y = 7q - 0.5; top bits 1 belong to sub-block 5
  b.scales[9] = 0x41;  // sub-block 5: scale 1 | 2 << 4 = 33, min 4 | 1 << 4 = 20: y = 33q - 10
  // Sub-block 4 reads byte 8 (0) and the top bits of bytes 0 and 4 (0): scale 0, min 0.
  b.qs[0] = 0x5A;       // y[0] (sub 0) = 2 * 10 - 1.5 = 18.5,  y[32] (sub 1) = 7 * 5 - 0.5 = 34.5
  b.qs[64 + 3] = 0x90;  // y[131] (sub 4) = 0,                  y[163] (sub 5) = 33 * 9 - 10 = 287
  const auto y = decode(DType::Q4_K, b);
  EXPECT_EQ(y[0], 18.5f);
  EXPECT_EQ(y[32], 34.5f);
  EXPECT_EQ(y[1], -1.5f);
  EXPECT_EQ(y[33], -0.5f);
  EXPECT_EQ(y[131], 0.f);
  EXPECT_EQ(y[163], 287.f);
  EXPECT_EQ(y[161], -10.f);
}

// As q4_K, and the fifth bit of sub-block j's value l is bit j of qh[l].
TEST(QuantBlockLayout, Q5_K) {
  BlockQ5_K b{};
  b.d = half(0.5f);
  b.dmin = half(1.f);
  b.scales[2] = 4;      // sub-block 2: scale 4
  b.scales[6] = 2;      //              min 2:   y = 2q - 2
  b.scales[3] = 0xC0;   // sub-block 3: scale 0; top bits 3 belong to sub-block 7's scale
  b.scales[7] = 0x40;   //              min 0;   top bits 1 belong to sub-block 7's min
  b.scales[11] = 0x12;  // sub-block 7: scale 2 | 3 << 4 = 50, min 1 | 1 << 4 = 17
  b.qs[32 + 5] = 0x0F;  // sub-block 2 (low nibble), value 5: 15; sub-block 3 (high): 0
  b.qs[96 + 5] = 0x30;  // sub-block 6 (low nibble), value 5: 0;  sub-block 7 (high): 3
  b.qh[5] = 0x84;       // fifth bits of value 5 in sub-blocks 2 and 7
  const auto y = decode(DType::Q5_K, b);
  EXPECT_EQ(y[64 + 5], 60.f);    // 0.5 * 4 * (15 | 16) - 1 * 2
  EXPECT_EQ(y[224 + 5], 458.f);  // 0.5 * 50 * (3 | 16) - 1 * 17
  EXPECT_EQ(y[96 + 5], 0.f);     // sub-block 3: scale and min 0 whatever the top bits
  EXPECT_EQ(y[192 + 5], 0.f);    // sub-block 6: scale and min 0
  EXPECT_EQ(y[64], -2.f);        // code 0 in sub-block 2
}

// Per half of 128 values: value l + 32k takes its low 4 bits from ql (k = 0, 1: low nibbles
// of ql[l], ql[l + 32]; k = 2, 3: their high nibbles), its top 2 bits from bits 2k, 2k + 1 of
// qh[l], and scale l / 16 + 2k; codes are offset by 32.
TEST(QuantBlockLayout, Q6_K) {
  BlockQ6_K b{};
  b.d = half(0.5f);
  b.scales[0] = 2;
  b.scales[2] = -3;
  b.scales[4] = 1;
  b.scales[6] = 4;
  b.scales[9] = -1;      // second half, values 16..31 of each quarter
  b.ql[0] = 0x7A;        // low bits: y[0] 10, y[64] 7
  b.ql[32] = 0x05;       // low bits: y[32] 5, y[96] 0
  b.qh[0] = 0x36;        // top bits: y[0] 2, y[32] 1, y[64] 3, y[96] 0
  b.ql[64 + 17] = 0x0C;  // second half, value 17: low bits 12
  b.qh[32 + 17] = 0x03;  //                          top bits 3
  const auto y = decode(DType::Q6_K, b);
  EXPECT_EQ(y[0], 10.f);          // 0.5 * 2 * ((10 | 2 << 4) - 32)
  EXPECT_EQ(y[32], 16.5f);        // 0.5 * -3 * ((5 | 1 << 4) - 32)
  EXPECT_EQ(y[64], 11.5f);        // 0.5 * 1 * ((7 | 3 << 4) - 32)
  EXPECT_EQ(y[96], -64.f);        // 0.5 * 4 * (0 - 32)
  EXPECT_EQ(y[128 + 17], -14.f);  // 0.5 * -1 * ((12 | 3 << 4) - 32)
  EXPECT_EQ(y[1], -32.f);         // 0.5 * 2 * (0 - 32)
}

// ---- Sizes -------------------------------------------------------------------------------

TEST(QuantBlockLayout, BlockShapesAndBytes) {
  struct Expect {
    DType t;
    int64_t values;
    size_t bytes;
    const char* ggml;
  };
  for (const Expect& e :
       {Expect{DType::Q8_0, 32, 34, "q8_0"}, Expect{DType::Q4_0, 32, 18, "q4_0"},
        Expect{DType::Q4_1, 32, 20, "q4_1"}, Expect{DType::Q5_0, 32, 22, "q5_0"},
        Expect{DType::Q5_1, 32, 24, "q5_1"}, Expect{DType::Q4_K, 256, 144, "q4_K"},
        Expect{DType::Q5_K, 256, 176, "q5_K"}, Expect{DType::Q6_K, 256, 210, "q6_K"}}) {
    SCOPED_TRACE(dtype_name(e.t));
    EXPECT_EQ(dtype_block(e.t).values, e.values);
    EXPECT_EQ(dtype_block(e.t).bytes, e.bytes);
    EXPECT_TRUE(dtype_is_quantized(e.t));
    EXPECT_EQ(dtype_bytes(e.t, 4 * e.values), 4 * e.bytes);
    EXPECT_EQ(dtype_bytes(e.t, e.values + 16), std::nullopt);  // not whole blocks
    EXPECT_STREQ(ggml_type_name(ggml_type_id(e.t)), e.ggml);
    EXPECT_EQ(dtype_from_ggml(ggml_type_id(e.t)), e.t);
    EXPECT_EQ(dtype_from_name(dtype_name(e.t)), e.t);
  }
  EXPECT_FALSE(dtype_is_quantized(DType::BF16));
  EXPECT_EQ(dtype_bytes(DType::Q6_K, 0), 0u);
}

TEST(QuantBlockLayout, EncodingLeavesNoRoomForPartBlocks) {
  std::vector<float> x(300, 1.f);
  std::vector<std::byte> out(1000);
  EXPECT_THROW(quantize_blocks(DType::Q4_K, x, out), ModelError);  // 300 is not 256k
  x.resize(256);
  std::vector<std::byte> small(100);
  EXPECT_THROW(quantize_blocks(DType::Q4_K, x, small), ModelError);  // needs 144 bytes
}

// The reader checks that every row of a block type holds whole blocks, before any data.
TEST(QuantBlockLayout, ReaderRefusesRowsOfPartSuperBlocks) {
  const auto p = testing::temp_dir() / "q4k-rows.gguf";
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("llama"));
  w.add_tensor_raw("blk.0.attn_q.weight", ggml_type_id(DType::Q4_K), {288, 2}, 2 * 162);
  w.write(p, [](size_t, const GgufWriter::Sink& sink) {
    const std::vector<unsigned char> z(2 * 162);
    sink(z.data(), z.size());
  });
  try {
    GgufFile::open(p);
    FAIL() << "opened a q4_K tensor with rows of 288 values";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("q4k-rows.gguf"), HasSubstr("blk.0.attn_q.weight"),
                                HasSubstr("q4_k needs ne[0] to be a multiple of 256, got 288")));
  }
}

// ---- Round trips -------------------------------------------------------------------------

// A deterministic generator, the same on every platform (std's distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Box-Muller.
  float normal() {
    const double u = 1.0 - uniform(), v = uniform();
    return static_cast<float>(std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v));
  }

 private:
  uint64_t s_;
};

// `n` codes in [0, hi], each of `must` present at least once (at random places).
std::vector<int> codes(Rng& r, int n, int hi, std::initializer_list<int> must) {
  std::vector<int> q(static_cast<size_t>(n));
  for (int& c : q) c = r.below(hi + 1);
  int at = r.below(n);
  for (int m : must) {
    q[static_cast<size_t>(at)] = m;
    at = (at + 1 + r.below(n - 1)) % n;  // a different place (n > 2)
  }
  return q;
}

std::vector<float> decode_all(DType t, const std::vector<std::byte>& bytes, size_t n) {
  std::vector<float> y(n);
  to_f32(t, bytes.data(), y);
  return y;
}

std::vector<std::byte> encode_all(DType t, const std::vector<float>& x) {
  std::vector<std::byte> out(*dtype_bytes(t, static_cast<int64_t>(x.size())));
  from_f32(t, x, out);
  return out;
}

template <class Block>
void append(std::vector<std::byte>& out, const Block& b) {
  const auto* p = reinterpret_cast<const std::byte*>(&b);
  out.insert(out.end(), p, p + sizeof b);
}

// Random blocks in the form the quantizer itself writes: the codes each scale is derived
// from are present (code 0 of the symmetric formats, both ends of those with a minimum, the
// largest 6-bit or int8 sub-block scale), so quantizing their values must give back exactly
// the same values.
std::vector<std::byte> representable_blocks(DType t, Rng& r, int blocks) {
  std::vector<std::byte> out;
  // An f16 scale with 11 significant bits in [2^-8, 2^-7): products with codes stay exact.
  auto scale = [&] { return static_cast<uint16_t>(0x1C00 + r.below(1024)); };
  for (int i = 0; i < blocks; ++i) {
    switch (t) {
      case DType::Q8_0: {
        BlockQ8_0 b;
        b.d = scale();
        const auto q = codes(r, 32, 254, {0});  // code -127 (0 here) sets the scale
        for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(q[j] - 127);
        append(out, b);
        break;
      }
      case DType::Q4_0:
      case DType::Q5_0: {
        const int hi = t == DType::Q4_0 ? 15 : 31;
        const auto q = codes(r, 32, hi, {0});  // code 0 is the value of largest magnitude
        if (t == DType::Q4_0) {
          BlockQ4_0 b;
          b.d = scale();
          for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | q[j + 16] << 4);
          append(out, b);
        } else {
          BlockQ5_0 b;
          b.d = scale();
          uint32_t h = 0;
          for (int j = 0; j < 16; ++j)
            b.qs[j] = static_cast<uint8_t>((q[j] & 15) | (q[j + 16] & 15) << 4);
          for (int j = 0; j < 32; ++j) h |= static_cast<uint32_t>(q[j] >> 4) << j;
          std::memcpy(b.qh, &h, 4);
          append(out, b);
        }
        break;
      }
      case DType::Q4_1:
      case DType::Q5_1: {
        const int hi = t == DType::Q4_1 ? 15 : 31;
        const auto q = codes(r, 32, hi, {0, hi});  // the minimum and the maximum
        const uint16_t m =
            static_cast<uint16_t>(r.below(2) ? 0x1C00 + r.below(1024) : 0x9C00 + r.below(1024));
        if (t == DType::Q4_1) {
          BlockQ4_1 b;
          b.d = scale();
          b.m = m;
          for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | q[j + 16] << 4);
          append(out, b);
        } else {
          BlockQ5_1 b;
          b.d = scale();
          b.m = m;
          uint32_t h = 0;
          for (int j = 0; j < 16; ++j)
            b.qs[j] = static_cast<uint8_t>((q[j] & 15) | (q[j + 16] & 15) << 4);
          for (int j = 0; j < 32; ++j) h |= static_cast<uint32_t>(q[j] >> 4) << j;
          std::memcpy(b.qh, &h, 4);
          append(out, b);
        }
        break;
      }
      case DType::Q4_K:
      case DType::Q5_K: {
        // 6-bit scales and mins with 63 present (they set d and dmin); every sub-block
        // reaches code 0 and the top code, so its range gives its scale and minimum.
        const int hi = t == DType::Q4_K ? 15 : 31;
        const auto sc = codes(r, 8, 62, {63});
        const auto mn = codes(r, 8, 63, {63});
        uint8_t packed[12] = {};
        for (int j = 0; j < 8; ++j) {
          const int s = std::max(sc[j], 1), m = mn[j];
          if (j < 4) {
            packed[j] |= static_cast<uint8_t>(s);
            packed[j + 4] |= static_cast<uint8_t>(m);
          } else {
            packed[j + 4] = static_cast<uint8_t>((s & 15) | (m & 15) << 4);
            packed[j - 4] |= static_cast<uint8_t>((s >> 4) << 6);
            packed[j] |= static_cast<uint8_t>((m >> 4) << 6);
          }
        }
        std::vector<int> q;
        for (int j = 0; j < 8; ++j) {
          const auto sub = codes(r, 32, hi, {0, hi});
          q.insert(q.end(), sub.begin(), sub.end());
        }
        auto pack = [&](auto& b) {
          b.d = scale();
          b.dmin = scale();
          std::memcpy(b.scales, packed, 12);
          for (int g = 0; g < 4; ++g) {
            for (int l = 0; l < 32; ++l) {
              b.qs[32 * g + l] =
                  static_cast<uint8_t>((q[64 * g + l] & 15) | (q[64 * g + 32 + l] & 15) << 4);
            }
          }
        };
        if (t == DType::Q4_K) {
          BlockQ4_K b;
          pack(b);
          append(out, b);
        } else {
          BlockQ5_K b;
          pack(b);
          std::memset(b.qh, 0, sizeof b.qh);
          for (int j = 0; j < 8; ++j) {
            for (int l = 0; l < 32; ++l) b.qh[l] |= static_cast<uint8_t>((q[32 * j + l] >> 4) << j);
          }
          append(out, b);
        }
        break;
      }
      case DType::Q6_K: {
        // int8 scales with -128 present (it sets d), none 0; every sub-block reaches code 0
        // (value -32), its value of largest magnitude.
        BlockQ6_K b;
        b.d = static_cast<uint16_t>(scale() | (r.below(2) ? 0x8000 : 0));
        const auto s = codes(r, 16, 254, {0});
        for (int j = 0; j < 16; ++j) {
          const int v = s[j] - 128;
          b.scales[j] = static_cast<int8_t>(v == 0 ? 1 : v);
        }
        std::vector<int> q;
        for (int j = 0; j < 16; ++j) {
          const auto sub = codes(r, 16, 63, {0});
          q.insert(q.end(), sub.begin(), sub.end());
        }
        for (int h = 0; h < 2; ++h) {
          for (int l = 0; l < 32; ++l) {
            const int* c = q.data() + 128 * h;
            b.ql[64 * h + l] = static_cast<uint8_t>((c[l] & 15) | (c[l + 64] & 15) << 4);
            b.ql[64 * h + l + 32] = static_cast<uint8_t>((c[l + 32] & 15) | (c[l + 96] & 15) << 4);
            b.qh[32 * h + l] = static_cast<uint8_t>((c[l] >> 4) | (c[l + 32] >> 4) << 2 |
                                                    (c[l + 64] >> 4) << 4 | (c[l + 96] >> 4) << 6);
          }
        }
        append(out, b);
        break;
      }
      case DType::F32:
      case DType::F16:
      case DType::BF16:
        break;
    }
  }
  return out;
}

constexpr DType kBlockTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                 DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(QuantRoundTrip, RepresentableBlocksComeBackExactly) {
  Rng r(7);
  for (DType t : kBlockTypes) {
    SCOPED_TRACE(dtype_name(t));
    const int blocks = 64;
    const size_t n = static_cast<size_t>(blocks * dtype_block(t).values);
    const auto x = decode_all(t, representable_blocks(t, r, blocks), n);
    const auto y = decode_all(t, encode_all(t, x), n);
    int wrong = 0;
    for (size_t i = 0; i < n; ++i) wrong += x[i] != y[i];
    EXPECT_EQ(wrong, 0) << "of " << n << " values";
  }
}

TEST(QuantRoundTrip, ZerosStayZeros) {
  for (DType t : kBlockTypes) {
    const std::vector<float> x(256, 0.f);
    const auto y = decode_all(t, encode_all(t, x), x.size());
    EXPECT_EQ(y, x) << dtype_name(t);
  }
}

// RMS error of 2^16 N(0, 1) values. A rounding error spread evenly over one step s has RMS
// s / sqrt(12); the steps follow from each format's range per block (max |x| of 32 normals
// is about 2.1, of 16 about 1.8; max - min of 32 about 4.1):
//   q8_0  2.1 / 127 -> 0.0047   q6_K  1.8 / 32 -> 0.016   q5_K, q5_1  4.1 / 31 -> 0.038
//   q5_0  2.1 / 16 -> 0.038     q4_K, q4_1  4.1 / 15 -> 0.079   q4_0  2.1 / 8 -> 0.076
// The symmetric formats (q4_0, q5_0, q6_K) also waste the top code on the side opposite the
// extreme, and the k-quants' search trims a little; the bounds are the measured values
// (0.0054, 0.018, 0.036, 0.038, 0.043, 0.072, 0.078, 0.086) plus about 12%.
TEST(QuantRoundTrip, GaussianErrorWithinBounds) {
  Rng r(11);
  std::vector<float> x(1 << 16);
  for (float& v : x) v = r.normal();
  auto rms = [&](DType t) {
    const auto y = decode_all(t, encode_all(t, x), x.size());
    double se = 0;
    for (size_t i = 0; i < x.size(); ++i) se += (double{x[i]} - y[i]) * (double{x[i]} - y[i]);
    return std::sqrt(se / static_cast<double>(x.size()));
  };
  const struct {
    DType t;
    double bound;
  } kBounds[] = {{DType::Q8_0, 0.0061}, {DType::Q6_K, 0.020}, {DType::Q5_K, 0.040},
                 {DType::Q5_1, 0.043},  {DType::Q5_0, 0.048}, {DType::Q4_K, 0.080},
                 {DType::Q4_1, 0.088},  {DType::Q4_0, 0.097}};
  std::map<DType, double> e;
  for (const auto& b : kBounds) {
    e[b.t] = rms(b.t);
    EXPECT_LT(e[b.t], b.bound) << dtype_name(b.t);
    EXPECT_GT(e[b.t], b.bound / 2) << dtype_name(b.t) << ": suspiciously good";
  }
  // More bits, less error; and the k-quants beat the 32-value formats of the same size.
  EXPECT_LT(e[DType::Q8_0], e[DType::Q6_K]);
  EXPECT_LT(e[DType::Q6_K], std::min({e[DType::Q5_K], e[DType::Q5_0], e[DType::Q5_1]}));
  EXPECT_LT(std::max({e[DType::Q5_K], e[DType::Q5_0], e[DType::Q5_1]}),
            std::min({e[DType::Q4_K], e[DType::Q4_0], e[DType::Q4_1]}));
  EXPECT_LT(e[DType::Q5_K], e[DType::Q5_0]);  // both 5.5 bits per weight
  EXPECT_LT(e[DType::Q4_K], e[DType::Q4_0]);  // both 4.5
}

// No absolute threshold gets in the way of ordinary data: the same values scaled by a power
// of two (every scale staying a normal f16) give the same codes under scales as much larger.
TEST(QuantRoundTrip, ScalingTheDataScalesTheResult) {
  Rng r(3);
  std::vector<float> x(1024), big(1024);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = r.normal();
    big[i] = x[i] * 1024.f;
  }
  for (DType t : kBlockTypes) {
    const auto a = decode_all(t, encode_all(t, x), x.size());
    const auto b = decode_all(t, encode_all(t, big), big.size());
    int differ = 0;
    for (size_t i = 0; i < x.size(); ++i) differ += b[i] != a[i] * 1024.f;
    EXPECT_EQ(differ, 0) << dtype_name(t);
  }
}

}  // namespace
}  // namespace bricks::model
