// Internal to bricks_cpu: large-m matrix products through oneDNN (when built with it).
//
// All functions compute y[i][j] = sum_k x[i][k] * W[j][k] for i < m, j < n, with W stored
// [n][k] row-major (the GGUF linear layout, read by oneDNN as a transposed K x N matrix)
// and y rows `ldy` floats apart. Accumulation is f32 in both variants.
#pragma once

#include <cstdint>
#include <string>

namespace bricks::cpu::detail {

// True when bricks_cpu was built with oneDNN.
bool dnnl_built();

// The oneDNN implementation that would run a matmul of this shape ("" when oneDNN is
// absent, fails, or would only run its slow reference code, as bf16 does on CPUs without
// AVX-512). Cheap after the first call for a given shape (oneDNN caches primitives).
std::string dnnl_impl(bool bf16, int64_t m, int64_t k, int64_t n);

void dnnl_matmul_f32(const float* x, int64_t m, int64_t k, const float* w, int64_t n, float* y,
                     int64_t ldy);
void dnnl_matmul_bf16(const uint16_t* x, int64_t m, int64_t k, const uint16_t* w, int64_t n,
                      float* y, int64_t ldy);

}  // namespace bricks::cpu::detail
