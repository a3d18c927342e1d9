#include "cpu/weight_lanes.h"

#include <cstring>
#include <string>

#include "bricks/error.hpp"
#include "bricks/model/quant_blocks.h"
#include "cpu/cpu_features.h"
#include "cpu/quant_dot.h"

namespace bricks::cpu {

bool lanes_layout_fits(WeightType t, int64_t cols, Compute compute) {
  return t == WeightType::Q8_0 && cols > 0 && cols % kLaneGroupValues == 0 &&
         compute == Compute::F32 &&
         detail::quant_isa_for(active_isa()) == detail::QuantIsa::Avx512Vnni;
}

void pack_lanes(const WeightView& w, char* out) {
  if (w.type != WeightType::Q8_0 || w.layout != WeightLayout::Gguf || w.cols <= 0 ||
      w.cols % kLaneGroupValues != 0) {
    throw Error::invalid(
        std::string("pack_lanes: the lane layout takes q8_0 matrices in the file's "
                    "layout with a multiple of 512 columns, not ") +
        to_string(w.type) + " with " + std::to_string(w.cols));
  }
  using B = model::BlockQ8_0;
  static_assert(sizeof(B) == kQ8BlockBytes);
  const int64_t groups = w.cols / kLaneGroupValues;
  const size_t rb = row_bytes(w.type, w.cols);
  char* scales = out + w.rows * groups * kLaneGroupValues;
  for (int64_t n = 0; n < w.rows; ++n) {
    const char* row = static_cast<const char*>(w.data) + n * rb;
    for (int64_t g = 0; g < groups; ++g) {
      auto* q = reinterpret_cast<uint8_t*>(out + (n * groups + g) * kLaneGroupValues);
      char* s = scales + (n * groups + g) * kLaneGroupBlocks * 2;
      for (int l = 0; l < kLaneGroupBlocks; ++l) {
        const char* blk = row + (g * kLaneGroupBlocks + lane_block(l)) * kQ8BlockBytes;
        std::memcpy(s + 2 * l, blk + offsetof(B, d), 2);
        const auto* qs = reinterpret_cast<const uint8_t*>(blk + offsetof(B, qs));
        for (int c = 0; c < kLaneChunks; ++c) {
          for (int k = 0; k < 4; ++k) q[c * 64 + 4 * l + k] = qs[4 * c + k] ^ 0x80u;
        }
      }
    }
  }
}

}  // namespace bricks::cpu
