// ggml's quantized block formats, byte for byte as GGUF files store them.
//
// A row of a quantized tensor is a run of blocks; a block holds `values` consecutive values
// of one row (32 for the legacy formats, 256 for the k-quant super-blocks). Scales `d`,
// `m`/`dmin` are IEEE binary16 bit patterns. All structs are packed to their file size
// (static_asserts below) and read through memcpy or byte pointers, never aligned loads.
//
// Value i of a block, as written by llama.cpp's quantizer and read by every reader:
//   q4_0  y[j] = d * ((qs[j] & 15) - 8),          y[j+16] = d * ((qs[j] >> 4) - 8)
//   q4_1  y[j] = d * (qs[j] & 15) + m,             y[j+16] = d * (qs[j] >> 4) + m
//   q5_0  as q4_0 with a fifth bit: h0 = bit j of qh, h1 = bit j+16 of qh (qh little-endian
//         u32); y[j] = d * (((qs[j] & 15) | h0 << 4) - 16), y[j+16] = d * (((qs[j] >> 4) | h1 << 4)
//         - 16)
//   q5_1  as q5_0 without the -16 and plus m
//   q8_0  y[j] = d * qs[j]
//   q4_K  8 sub-blocks of 32 with 6-bit scale sc and min mn each (scale_min_k4 below);
//         sub-blocks 2g and 2g+1 share qs[32g .. 32g+32): the low nibbles are sub-block 2g,
//         the high nibbles 2g+1; y = d * sc * q - dmin * mn
//   q5_K  as q4_K plus a fifth bit: sub-block s takes bit s of qh[l] for its value l
//   q6_K  16 sub-blocks of 16 with an int8 scale; per half (128 values) h, with ql/qh/sc
//         advanced by 64/32/8 per half, for l in [0, 32):
//           y[l]    = d * sc[l/16 + 0] * ((ql[l]    & 15 | ((qh[l] >> 0) & 3) << 4) - 32)
//           y[l+32] = d * sc[l/16 + 2] * ((ql[l+32] & 15 | ((qh[l] >> 2) & 3) << 4) - 32)
//           y[l+64] = d * sc[l/16 + 4] * ((ql[l]    >> 4 | ((qh[l] >> 4) & 3) << 4) - 32)
//           y[l+96] = d * sc[l/16 + 6] * ((ql[l+32] >> 4 | ((qh[l] >> 6) & 3) << 4) - 32)
// Activation blocks (never stored in model files; the CPU kernels quantize activations to
// them for integer dot products):
//   q8_1  q8_0 plus s = d * sum(qs) (for the formats with a min: q4_1, q5_1)
//   q8_K  f32 d, 256 int8 and the sums of each 16 of them (for the k-quants)
#pragma once

#include <cstddef>
#include <cstdint>

namespace bricks::model {

inline constexpr int kQK = 32;    // values per legacy block
inline constexpr int kQKK = 256;  // values per k-quant super-block

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
struct BlockQ8_1 {
  uint16_t d, s;
  int8_t qs[kQK];
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// The 6-bit scale and min of sub-block j (0..7) of a q4_K/q5_K super-block, packed in 12
// bytes: j < 4 in the low 6 bits of bytes j and j+4; j >= 4 in the nibbles of byte j+4 with
// their top 2 bits in the top bits of bytes j-4 (scale) and j (min).
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* mn) {
  if (j < 4) {
    *sc = q[j] & 63;
    *mn = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *mn = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The unsigned values of a q4_K super-block (0..15), or of a q5_K one with their fifth bit
// (0..31), in order: sub-block s is the low nibbles of qs[32 (s / 2) ..] for even s, else the
// high ones, and q5_K's value l of sub-block s takes bit s of qh[l].
template <class B>
inline void k4_values(const B& b, uint8_t out[kQKK]) {
  for (int p = 0; p < 4; ++p) {  // sub-blocks 2p and 2p + 1
    const uint8_t* q = b.qs + 32 * p;
    uint8_t* o = out + 64 * p;
    for (int l = 0; l < 32; ++l) {
      o[l] = q[l] & 15;
      o[l + 32] = q[l] >> 4;
      if constexpr (requires { b.qh; }) {
        o[l] = static_cast<uint8_t>(o[l] | ((b.qh[l] >> (2 * p)) & 1) << 4);
        o[l + 32] = static_cast<uint8_t>(o[l + 32] | ((b.qh[l] >> (2 * p + 1)) & 1) << 4);
      }
    }
  }
}

// The 6-bit values of a q6_K super-block (0..63, before the -32), in order, as the table at
// the top of this file gives them.
inline void q6k_values(const BlockQ6_K& b, uint8_t out[kQKK]) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    uint8_t* u = out + 128 * h;
    for (int l = 0; l < 32; ++l) {
      u[l] = static_cast<uint8_t>((ql[l] & 15) | (qh[l] & 3) << 4);
      u[l + 32] = static_cast<uint8_t>((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4);
      u[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
      u[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4);
    }
  }
}

}  // namespace bricks::model
