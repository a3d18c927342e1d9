// Internal to bricks_cpu: SIMD array conversions, compiled with function-level target
// attributes so the rest of the library keeps the baseline instruction set. Only call the
// _avx2 versions when active_isa() >= Isa::Avx2, the _avx512 ones when it is Avx512.
#pragma once

#include <cstdint>

namespace bricks::cpu::detail {

void f16_to_f32_avx2(const uint16_t* in, float* out, int64_t n);
void f32_to_f16_avx2(const float* in, uint16_t* out, int64_t n);
void bf16_to_f32_avx2(const uint16_t* in, float* out, int64_t n);
void f32_to_bf16_avx2(const float* in, uint16_t* out, int64_t n);
void f16_to_bf16_avx2(const uint16_t* in, uint16_t* out, int64_t n);

void f16_to_f32_avx512(const uint16_t* in, float* out, int64_t n);
void f32_to_f16_avx512(const float* in, uint16_t* out, int64_t n);
void bf16_to_f32_avx512(const uint16_t* in, float* out, int64_t n);
void f32_to_bf16_avx512(const float* in, uint16_t* out, int64_t n);
void f16_to_bf16_avx512(const uint16_t* in, uint16_t* out, int64_t n);

}  // namespace bricks::cpu::detail
