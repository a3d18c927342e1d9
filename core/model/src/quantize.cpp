// Encoders of ggml's 32-value block formats (q4_0, q4_1, q5_0, q5_1) and the dispatch of
// quantize_blocks. Scales are chosen as llama.cpp's reference quantizer (no importance
// matrix) chooses them, so a file quantized here holds the bytes llama-quantize would write:
//   q4_0, q5_0  d = (the value of largest magnitude, with its sign) / -8 or -16, so that value
//               gets code 0 and the others land in [1, 15] or [1, 31] (rounded half up)
//   q4_1, q5_1  d = (max - min) / 15 or 31, m = min: codes round (x - min) / d
// The k-quants (256-value super-blocks) are in quantize_k.cpp.
#include <cstring>
#include <limits>
#include <string>

#include "bricks/model/dtype.h"
#include "bricks/model/model_error.h"
#include "quantize_k.h"

namespace bricks::model {
namespace {

// v truncated towards zero after clamping to [0, hi] (NaN gives 0): the `(int)(v + 0.5f)`
// rounding of the reference quantizer, kept inside the code range.
uint8_t clamped_code(float v, float hi) {
  v = v > 0.f ? v : 0.f;
  v = v < hi ? v : hi;
  return static_cast<uint8_t>(v);
}

// The value of largest magnitude with its sign; the first of equal magnitudes wins.
float signed_extreme(const float* x) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < kQK; ++j) {
    const float a = x[j] < 0.f ? -x[j] : x[j];
    if (amax < a) {
      amax = a;
      max = x[j];
    }
  }
  return max;
}

struct Range {
  float min, max;
};

Range value_range(const float* x) {
  Range r{std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < r.min) r.min = x[j];
    if (x[j] > r.max) r.max = x[j];
  }
  return r;
}

// Codes of the symmetric formats: x / d shifted by half the code range (8 or 16).
template <int kCodes>
void symmetric_codes(const float* x, uint16_t* d_half, uint8_t* q) {
  const float d = signed_extreme(x) / -static_cast<float>(kCodes / 2);
  const float id = d != 0.f ? 1.f / d : 0.f;
  *d_half = f32_to_f16(d);
  for (int j = 0; j < kQK; ++j) {
    q[j] = clamped_code(x[j] * id + (kCodes / 2 + 0.5f), kCodes - 1);
  }
}

// Codes of the formats with a minimum: (x - min) / d.
template <int kCodes>
void offset_codes(const float* x, uint16_t* d_half, uint16_t* m_half, uint8_t* q) {
  const Range r = value_range(x);
  const float d = (r.max - r.min) / static_cast<float>(kCodes - 1);
  const float id = d != 0.f ? 1.f / d : 0.f;
  *d_half = f32_to_f16(d);
  *m_half = f32_to_f16(r.min);
  for (int j = 0; j < kQK; ++j) q[j] = clamped_code((x[j] - r.min) * id + 0.5f, kCodes - 1);
}

// Low nibbles: values 0..15 of the block, high nibbles: values 16..31.
void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 15) | (q[j + kQK / 2] & 15) << 4);
  }
}

// The fifth bit of value j goes to bit j of the little-endian u32 qh.
void pack_fifth_bits(const uint8_t* q, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < kQK; ++j) h |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &h, 4);
}

BlockQ4_0 encode_q4_0(const float* x) {
  BlockQ4_0 b;
  uint8_t q[kQK];
  symmetric_codes<16>(x, &b.d, q);
  pack_nibbles(q, b.qs);
  return b;
}

BlockQ4_1 encode_q4_1(const float* x) {
  BlockQ4_1 b;
  uint8_t q[kQK];
  offset_codes<16>(x, &b.d, &b.m, q);
  pack_nibbles(q, b.qs);
  return b;
}

BlockQ5_0 encode_q5_0(const float* x) {
  BlockQ5_0 b;
  uint8_t q[kQK];
  symmetric_codes<32>(x, &b.d, q);
  pack_nibbles(q, b.qs);
  pack_fifth_bits(q, b.qh);
  return b;
}

BlockQ5_1 encode_q5_1(const float* x) {
  BlockQ5_1 b;
  uint8_t q[kQK];
  offset_codes<32>(x, &b.d, &b.m, q);
  pack_nibbles(q, b.qs);
  pack_fifth_bits(q, b.qh);
  return b;
}

// Encodes every block of `src` with `encode` (values -> Block) into the bytes of `dst`.
template <int64_t kValues, class Encode>
void encode_all(std::span<const float> src, std::span<std::byte> dst, Encode encode) {
  using Block = decltype(encode(src.data()));
  const size_t blocks = src.size() / kValues;
  for (size_t i = 0; i < blocks; ++i) {
    const Block b = encode(src.data() + i * kValues);
    std::memcpy(dst.data() + i * sizeof(Block), &b, sizeof(Block));
  }
}

}  // namespace

void quantize_blocks(DType t, std::span<const float> src, std::span<std::byte> dst) {
  const BlockShape shape = dtype_block(t);
  const auto need = dtype_bytes(t, static_cast<int64_t>(src.size()));
  if (shape.values == 1 || !need || dst.size() < *need) {
    throw ModelError(std::string("quantize_blocks: ") + std::to_string(src.size()) +
                     " values do not make whole " + dtype_name(t) + " blocks of " +
                     std::to_string(shape.values) + " in " + std::to_string(dst.size()) + " bytes");
  }
  switch (t) {
    case DType::Q8_0:
      return quantize_q8_0(src, dst);
    case DType::Q4_0:
      return encode_all<kQK>(src, dst, encode_q4_0);
    case DType::Q4_1:
      return encode_all<kQK>(src, dst, encode_q4_1);
    case DType::Q5_0:
      return encode_all<kQK>(src, dst, encode_q5_0);
    case DType::Q5_1:
      return encode_all<kQK>(src, dst, encode_q5_1);
    case DType::Q4_K:
      return encode_all<kQKK>(src, dst, quant::encode_q4_k);
    case DType::Q5_K:
      return encode_all<kQKK>(src, dst, quant::encode_q5_k);
    case DType::Q6_K:
      return encode_all<kQKK>(src, dst, quant::encode_q6_k);
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      break;
  }
}

}  // namespace bricks::model
