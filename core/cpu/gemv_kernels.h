// Internal to bricks_cpu: the skinny-GEMM ("GEMV") kernels behind Linear.
//
// A kernel computes y[i][n] = sum_k x[i][k] * W[n][k] for all i in [0, m) and the output
// rows n in [n0, n1), reading each weight row once from memory for all m rows: rows are
// taken a few at a time and every block of up to 4 activation rows reuses them from L1.
// With m > 1 the SIMD kernels walk the columns in passes of 512 so the activation slices
// stay in L1 too, adding each pass's partial sums into y.
// Activations and results are f32; weights are read in their stored type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/cpu_features.h"
#include "cpu/weights.h"

namespace bricks::cpu::detail {

struct GemvArgs {
  const char* w = nullptr;  // row n starts at w + n * row_bytes
  size_t row_bytes = 0;
  int64_t cols = 0;                  // k
  const float* x = nullptr;          // [m][cols]
  const uint16_t* x_bf16 = nullptr;  // [m][cols] bf16 bits, for gemv_bf16dp_avx512 only
  int64_t m = 0;
  float* y = nullptr;  // [m][ldy]
  int64_t ldy = 0;
};

using GemvFn = void (*)(const GemvArgs& a, int64_t n0, int64_t n1);

// For f32, f16 and bf16 weights; nullptr for the block types, whose products take quantized
// activations (quant_dot.h).
GemvFn gemv_scalar(WeightType t);
GemvFn gemv_avx2(WeightType t);
GemvFn gemv_avx512(WeightType t);

// The kernel for `isa` (which the CPU must support); nullptr for the block types.
GemvFn gemv_kernel(Isa isa, WeightType t);

// The register-tiled form of the same product for many activation rows (f32 arithmetic on
// f32, f16 or bf16 weights; nullptr for other types): weight panels converted and transposed
// once per call and row range, outer products into registers: in zmm registers, and in ymm
// ones for AVX2.
GemvFn gemm_tiles_avx512(WeightType t);
GemvFn gemm_tiles_avx2(WeightType t);

// The same product for 16 to 31 activation rows on AVX2 (f32, f16 or bf16 weights; nullptr for
// other types): the activations transposed once per call, each weight value converted once
// into a panel and broadcast against a vector of activation rows (gemv_bcast_avx2.cpp).
GemvFn gemv_bcast_avx2(WeightType t);

// bf16 or f16 weights times bf16 activations (x_bf16) with vdpbf16ps, f32 sums: the GEMV of
// bf16 compute on CPUs with AVX512_BF16 (the caller checks cpu_features().avx512bf16). f16
// weights are rounded to bf16 on the way, as the bf16 matmul's converted panels are.
// nullptr for other types.
GemvFn gemv_bf16dp_avx512(WeightType t);

}  // namespace bricks::cpu::detail
