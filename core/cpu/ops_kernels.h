// Internal to bricks_cpu: SIMD versions of the elementwise ops (ops.h), compiled with
// function-level target attributes. Only call the _avx2 versions when active_isa() >=
// Isa::Avx2, the _avx512 ones when it is Avx512.
#pragma once

#include <cstdint>

namespace bricks::cpu::detail {

// out = g / (1 + exp(-g)) * up, exp by a degree-6 polynomial on the reduced argument
// (relative error about 2e-7); out may equal gate or up.
void silu_mul_avx2(const float* gate, const float* up, int64_t n, float* out);
void silu_mul_avx512(const float* gate, const float* up, int64_t n, float* out);

}  // namespace bricks::cpu::detail
