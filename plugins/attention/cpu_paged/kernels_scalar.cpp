// Portable kernels: plain loops the compiler may auto-vectorise for the baseline ISA.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "bricks/half.hpp"
#include "bricks/prefetch.hpp"
#include "kernels.h"

namespace bricks_cpu_paged {
namespace scalar {

#define BRICKS_KERNEL_TARGET

inline float dot(const float* a, const float* b, int32_t n) {
  float s = 0.0f;
  for (int32_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void dot_rows(const float* q, const float* const* rows, int32_t k, int32_t n, float* out) {
  for (int32_t j = 0; j < k; ++j) out[j] = dot(q, rows[j], n);
}

inline void scale(float* x, float a, int32_t n) {
  for (int32_t i = 0; i < n; ++i) x[i] *= a;
}

inline void axpy_block(float* acc, const float* p, const float* const* rows, int32_t k, int32_t n) {
  for (int32_t j = 0; j < k; ++j) {
    for (int32_t d = 0; d < n; ++d) acc[d] += p[j] * rows[j][d];
  }
}

inline void exp_block(float* x, int32_t n) {
  for (int32_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

inline void f16_row(const uint16_t* src, float* dst, int32_t n) {
  for (int32_t i = 0; i < n; ++i) dst[i] = bricks::f16_to_f32(src[i]);
}

#include "tile_kernel.inc"

#undef BRICKS_KERNEL_TARGET

}  // namespace scalar

const KernelSet kScalarKernels = {"scalar", &scalar::attend, &attend_per_head<&scalar::attend>,
                                  &scalar::score};

}  // namespace bricks_cpu_paged
