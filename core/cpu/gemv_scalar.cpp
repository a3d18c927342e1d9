// Portable GEMV kernels: the dispatch floor for CPUs without AVX2 + FMA + F16C.
#include <vector>

#include "cpu/convert.h"
#include "cpu/gemv_kernels.h"

namespace bricks::cpu::detail {
namespace {

// Converts weight rows to f32 one at a time and accumulates each activation row in f32
// with four partial sums (the order differs from a plain loop only by rounding).
template <WeightType T>
void gemv_rows(const GemvArgs& a, int64_t n0, int64_t n1) {
  thread_local std::vector<float> row;
  row.resize(a.cols);
  const WeightView view{T, n1, a.cols, a.w};
  for (int64_t n = n0; n < n1; ++n) {
    dequantize_row(view, n, row.data());
    for (int64_t i = 0; i < a.m; ++i) {
      const float* x = a.x + i * a.cols;
      float s[4] = {0, 0, 0, 0};
      int64_t k = 0;
      for (; k + 4 <= a.cols; k += 4) {
        for (int j = 0; j < 4; ++j) s[j] += row[k + j] * x[k + j];
      }
      for (; k < a.cols; ++k) s[0] += row[k] * x[k];
      a.y[i * a.ldy + n] = (s[0] + s[1]) + (s[2] + s[3]);
    }
  }
}

}  // namespace

GemvFn gemv_scalar(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return gemv_rows<WeightType::F32>;
    case WeightType::F16:
      return gemv_rows<WeightType::F16>;
    case WeightType::BF16:
      return gemv_rows<WeightType::BF16>;
    default:  // the block types run the integer kernels (quant_dot.h)
      break;
  }
  return nullptr;
}

GemvFn gemv_kernel(Isa isa, WeightType t) {
  GemvFn f = nullptr;
  switch (isa) {
    case Isa::Avx512:
      f = gemv_avx512(t);
      break;
    case Isa::Avx2:
      f = gemv_avx2(t);
      break;
    case Isa::Scalar:
      break;
  }
  return f != nullptr ? f : gemv_scalar(t);
}

}  // namespace bricks::cpu::detail
