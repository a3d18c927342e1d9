#include "cpu/weight_lanes.h"

#include <cstring>
#include <string>
#include <type_traits>

#include "bricks/error.hpp"
#include "bricks/model/quant_blocks.h"
#include "cpu/cpu_features.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu {

bool lanes_layout_fits(WeightType t, int64_t cols, Compute compute) {
  if (cols <= 0 || cols % lanes_group_values(t) != 0 || compute != Compute::F32) return false;
  switch (detail::quant_isa_for(active_isa())) {
    case detail::QuantIsa::Avx512Vnni:
      return t == WeightType::Q8_0 || t == WeightType::Q4_K;
    case detail::QuantIsa::Avx2:
      return t == WeightType::Q4_K || t == WeightType::Q5_K || t == WeightType::Q6_K;
    default:
      return false;
  }
}

namespace {

// Group g of a q8_0 row in the file's layout, to its weights q and scales s.
void pack_q8_group(const char* row, int64_t g, uint8_t* q, char* s) {
  using B = model::BlockQ8_0;
  static_assert(sizeof(B) == kQ8BlockBytes);
  for (int l = 0; l < kLaneGroupUnits; ++l) {
    const char* blk = row + (g * kLaneGroupUnits + lane_unit(l)) * kQ8BlockBytes;
    std::memcpy(s + 2 * l, blk + offsetof(B, d), 2);
    const auto* qs = reinterpret_cast<const uint8_t*>(blk + offsetof(B, qs));
    for (int c = 0; c < kLaneChunks; ++c) {
      for (int k = 0; k < 4; ++k) q[c * 64 + 4 * l + k] = qs[4 * c + k] ^ 0x80u;
    }
  }
}

// Group g (super-blocks 2g and 2g + 1) of a q4_K or q5_K row in the file's layout, to its
// weights q and scales s.
template <class B>
void pack_k4_group(const char* row, int64_t g, uint8_t* q, char* s) {
  constexpr bool kFive = std::is_same_v<B, model::BlockQ5_K>;
  const auto* super = reinterpret_cast<const B*>(row) + 2 * g;
  uint8_t v[kLaneGroupValues];  // both super-blocks' values in order
  for (int b = 0; b < 2; ++b) model::k4_values(super[b], v + model::kQKK * b);
  uint32_t sc_high = 0, mn_high = 0;
  for (int l = 0; l < kLaneGroupUnits; ++l) {
    const int u = lane_unit(l);
    uint8_t sc = 0, mn = 0;
    model::scale_min_k4(u % 8, super[u / 8].scales, &sc, &mn);
    s[l] = static_cast<char>((sc & 15) | (mn & 15) << 4);
    sc_high |= static_cast<uint32_t>(sc >> 4) << (2 * l);
    mn_high |= static_cast<uint32_t>(mn >> 4) << (2 * l);
    const uint8_t* unit = v + 32 * u;
    for (int p = 0; p < 4; ++p) {
      for (int k = 0; k < 4; ++k) {
        q[p * 64 + 4 * l + k] = static_cast<uint8_t>((unit[4 * (2 * p) + k] & 15) |
                                                     (unit[4 * (2 * p + 1) + k] & 15) << 4);
      }
    }
    if constexpr (kFive) {
      for (int k = 0; k < 4; ++k) {
        uint8_t bits = 0;
        for (int c = 0; c < kLaneChunks; ++c) {
          bits = static_cast<uint8_t>(bits | (unit[4 * c + k] >> 4) << c);
        }
        q[4 * 64 + 32 * (l / 8) + 4 * (l % 8) + k] = bits;
      }
    }
  }
  std::memcpy(s + kLaneScHigh, &sc_high, 4);
  std::memcpy(s + kLaneMnHigh, &mn_high, 4);
  const uint16_t halves[4] = {super[0].d, super[1].d, super[0].dmin, super[1].dmin};
  std::memcpy(s + kLaneScaleHalves, halves, 8);
}

// Group g (one super-block) of a q6_K row in the file's layout, to its weights q and scales s.
void pack_q6k_group(const char* row, int64_t g, uint8_t* q, char* s) {
  using B = model::BlockQ6_K;
  const B& blk = reinterpret_cast<const B*>(row)[g];
  uint8_t v[model::kQKK];
  model::q6k_values(blk, v);
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 8; ++k) {
      const uint8_t* unit = v + 16 * q6_lane_unit(h, k);
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 4; ++j) {
          const int top = (unit[12 + j] >> (2 * i)) & 3;
          q[96 * h + 32 * i + 4 * k + j] = static_cast<uint8_t>(unit[4 * i + j] | top << 6);
        }
      }
    }
  }
  std::memcpy(s, blk.scales, sizeof(blk.scales));
  std::memcpy(s + sizeof(blk.scales), &blk.d, 2);
}

}  // namespace

void pack_lanes(const WeightView& w, char* out) {
  const bool type_fits = w.type == WeightType::Q8_0 || w.type == WeightType::Q4_K ||
                         w.type == WeightType::Q5_K || w.type == WeightType::Q6_K;
  if (!type_fits || w.layout != WeightLayout::Gguf || w.cols <= 0 ||
      w.cols % lanes_group_values(w.type) != 0) {
    throw Error::invalid(std::string("pack_lanes: the lane layout takes q8_0, q4_K or q5_K "
                                     "matrices with a multiple of 512 columns, or q6_K with a "
                                     "multiple of 256, in the file's layout; not ") +
                         to_string(w.type) + " with " + std::to_string(w.cols));
  }
  const int64_t groups = w.cols / lanes_group_values(w.type);
  const int64_t group_weights = lanes_row_weights(w.type, w.cols) / groups;
  const int64_t group_scales = w.type == WeightType::Q6_K ? kQ6LaneScales : kLaneGroupScales;
  const size_t rb = row_bytes(w.type, w.cols);
  char* scales = out + w.rows * groups * group_weights;
  for (int64_t n = 0; n < w.rows; ++n) {
    const char* row = static_cast<const char*>(w.data) + n * rb;
    for (int64_t g = 0; g < groups; ++g) {
      auto* q = reinterpret_cast<uint8_t*>(out + (n * groups + g) * group_weights);
      char* s = scales + (n * groups + g) * group_scales;
      if (w.type == WeightType::Q8_0) {
        pack_q8_group(row, g, q, s);
      } else if (w.type == WeightType::Q4_K) {
        pack_k4_group<model::BlockQ4_K>(row, g, q, s);
      } else if (w.type == WeightType::Q5_K) {
        pack_k4_group<model::BlockQ5_K>(row, g, q, s);
      } else {
        pack_q6k_group(row, g, q, s);
      }
    }
  }
}

}  // namespace bricks::cpu
