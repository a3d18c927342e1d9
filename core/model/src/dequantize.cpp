// Reference decoders of ggml's block formats (the formulas of quant_blocks.h), one block at a
// time. The CPU kernels check their integer dot products against these.
#include <cstring>

#include "bricks/model/dtype.h"
#include "bricks/model/quant_blocks.h"

namespace bricks::model {
namespace {

float half(uint16_t h) { return f16_to_f32(h); }

uint32_t high_bits(const uint8_t qh[4]) {
  uint32_t u;
  std::memcpy(&u, qh, 4);
  return u;
}

void block_q8_0(const BlockQ8_0& b, float* y) {
  const float d = half(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(b.qs[j]);
}

void block_q4_0(const BlockQ4_0& b, float* y) {
  const float d = half(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = d * static_cast<float>((b.qs[j] & 15) - 8);
    y[j + kQK / 2] = d * static_cast<float>((b.qs[j] >> 4) - 8);
  }
}

void block_q4_1(const BlockQ4_1& b, float* y) {
  const float d = half(b.d), m = half(b.m);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = d * static_cast<float>(b.qs[j] & 15) + m;
    y[j + kQK / 2] = d * static_cast<float>(b.qs[j] >> 4) + m;
  }
}

// The 5-bit values of a q5_0/q5_1 block, before the offset.
void five_bit(const uint8_t qh[4], const uint8_t qs[kQK / 2], int q[kQK]) {
  const uint32_t h = high_bits(qh);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 15) | static_cast<int>(((h >> j) & 1u) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((h >> (j + kQK / 2)) & 1u) << 4);
  }
}

void block_q5_0(const BlockQ5_0& b, float* y) {
  int q[kQK];
  five_bit(b.qh, b.qs, q);
  const float d = half(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(q[j] - 16);
}

void block_q5_1(const BlockQ5_1& b, float* y) {
  int q[kQK];
  five_bit(b.qh, b.qs, q);
  const float d = half(b.d), m = half(b.m);
  for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(q[j]) + m;
}

// q4_K and q5_K: 8 sub-blocks of 32; `qh` is null for q4_K.
void block_k4(uint16_t dh, uint16_t dminh, const uint8_t scales[12], const uint8_t* qs,
              const uint8_t* qh, float* y) {
  const float d = half(dh), dmin = half(dminh);
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    scale_min_k4(s, scales, &sc, &mn);
    const float ds = d * sc, ms = dmin * mn;
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 15;
      if (qh != nullptr) v |= ((qh[l] >> s) & 1) << 4;
      y[32 * s + l] = ds * static_cast<float>(v) - ms;
    }
  }
}

void block_q6_k(const BlockQ6_K& b, float* y) {
  const float d = half(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int h = 0; h < 2; ++h, ql += 64, qh += 32, sc += 8, y += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
      const int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
      const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
      const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
      y[l] = d * static_cast<float>(sc[is + 0] * q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2] * q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4] * q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6] * q4);
    }
  }
}

template <class Block, class Fn>
void each_block(const void* src, std::span<float> dst, int64_t per_block, Fn decode) {
  const auto* p = static_cast<const unsigned char*>(src);
  const size_t blocks = dst.size() / static_cast<size_t>(per_block);
  for (size_t i = 0; i < blocks; ++i) {
    Block b;
    std::memcpy(&b, p + i * sizeof(Block), sizeof(Block));
    decode(b, dst.data() + i * per_block);
  }
}

}  // namespace

void dequantize_blocks(DType t, const void* src, std::span<float> dst) {
  switch (t) {
    case DType::Q8_0:
      return each_block<BlockQ8_0>(src, dst, kQK, block_q8_0);
    case DType::Q4_0:
      return each_block<BlockQ4_0>(src, dst, kQK, block_q4_0);
    case DType::Q4_1:
      return each_block<BlockQ4_1>(src, dst, kQK, block_q4_1);
    case DType::Q5_0:
      return each_block<BlockQ5_0>(src, dst, kQK, block_q5_0);
    case DType::Q5_1:
      return each_block<BlockQ5_1>(src, dst, kQK, block_q5_1);
    case DType::Q4_K:
      return each_block<BlockQ4_K>(src, dst, kQKK, [](const BlockQ4_K& b, float* y) {
        block_k4(b.d, b.dmin, b.scales, b.qs, nullptr, y);
      });
    case DType::Q5_K:
      return each_block<BlockQ5_K>(src, dst, kQKK, [](const BlockQ5_K& b, float* y) {
        block_k4(b.d, b.dmin, b.scales, b.qs, b.qh, y);
      });
    case DType::Q6_K:
      return each_block<BlockQ6_K>(src, dst, kQKK, block_q6_k);
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      break;
  }
  to_f32(t, src, dst);
}

}  // namespace bricks::model
