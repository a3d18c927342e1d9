#include <algorithm>
#include <string>

#include "kernels.h"

namespace bricks_cpu_paged {

// Mirrors the layouts attend(), score() and the lane kernels (LaneTile) carve out of
// Scratch::data (see tile_kernel.inc): accumulators, m and l per query vector and one block of
// probabilities, or queries and accumulators transposed with m, l and a position per lane;
// then one block of K and of V as floats. The grouped kernel (grouped_kernel.inc, up
// to eight query vectors) needs queries in lanes and an interleaved key block (16 x head_dim
// each), eight accumulators, eight registers of probabilities and one more register.
int64_t scratch_floats(const Geometry& g, int32_t tile_rows, int32_t step_heads) {
  constexpr int64_t kKeyBlock = 16;
  const int64_t vectors = int64_t{tile_rows} * g.group;
  const int64_t tile = vectors * (g.head_dim + 2) + kKeyBlock;
  // The AVX-512 kernel's lanes: queries and outputs transposed, three values per lane, in
  // groups of sixteen.
  const int64_t lanes = (vectors + 15) / 16 * 16;
  const int64_t in_lanes = lanes * (2 * g.head_dim + 3);
  const int64_t grouped = 40 * int64_t{g.head_dim} + 9 * 16;
  // attend_heads in step: each head's query and output, max and sum.
  const int64_t heads = int64_t{step_heads} * (2 * g.head_dim + 2);
  return std::max({std::max(tile, in_lanes) + 2 * kKeyBlock * g.head_dim, grouped, heads});
}

const KernelSet& select_kernels(const std::string& limit) {
  __builtin_cpu_init();
  if (limit == "auto" || limit == "avx512") {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c")) {
      return kAvx512Kernels;
    }
  }
  if (limit != "scalar") {
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c")) {
      return kAvx2Kernels;
    }
  }
  return kScalarKernels;
}

}  // namespace bricks_cpu_paged
