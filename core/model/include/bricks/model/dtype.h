// Weight element types of model files and the scalar conversions between them.
//
// Thread safety: everything here is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace bricks::model {

// The weight types a model file may hold. Q8_0 is ggml's block format: blocks of 32 values,
// each an IEEE half scale `d` followed by 32 int8 `q`; value i of a block is d * q[i].
enum class DType { F32, F16, BF16, Q8_0 };

inline constexpr int64_t kQ8_0Block = 32;       // values per Q8_0 block
inline constexpr size_t kQ8_0BlockBytes = 34;  // 2-byte scale + 32 int8

// "f32", "f16", "bf16", "q8_0".
const char* dtype_name(DType);
// Inverse of dtype_name (case-sensitive); nullopt for any other text.
std::optional<DType> dtype_from_name(const char* name);

// ggml's type id of a dtype (F32 0, F16 1, Q8_0 8, BF16 30) and back; nullopt when the id is
// not one of those four.
uint32_t ggml_type_id(DType);
std::optional<DType> dtype_from_ggml(uint32_t id);
// ggml's name of any ggml type id ("q4_K", ...), or nullptr when the id is not a ggml type.
const char* ggml_type_name(uint32_t id);

// Bytes that `numel` values take; for Q8_0 numel must be a multiple of 32 (nullopt if not).
std::optional<size_t> dtype_bytes(DType, int64_t numel);

// IEEE binary16 and bfloat16 <-> binary32. The narrowing conversions round to nearest even;
// NaN stays NaN and overflow becomes infinity.
float f16_to_f32(uint16_t);
uint16_t f32_to_f16(float);
float bf16_to_f32(uint16_t);
uint16_t f32_to_bf16(float);

// Q8_0 of one row: `src.size()` must be a multiple of 32 and `dst` hold
// src.size() / 32 * 34 bytes. The scale is max|x| / 127 per block.
void quantize_q8_0(std::span<const float> src, std::span<std::byte> dst);
// Decodes `dst.size()` values (a multiple of 32) from Q8_0 blocks at `src`.
void dequantize_q8_0(const void* src, std::span<float> dst);
// Decodes `dst.size()` values of any DType at `src` into f32.
void to_f32(DType, const void* src, std::span<float> dst);

}  // namespace bricks::model
