// Weight element types of model files and the scalar conversions between them.
//
// Thread safety: everything here is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace bricks::model {

// The weight types a model file may hold. The quantized ones are ggml's block formats
// (quant_blocks.h): Q8_0 is blocks of 32 values, each an IEEE half scale `d` followed by 32
// int8 `q` (value i of a block is d * q[i]); Q4_0 .. Q5_1 are 32-value blocks of 4 or 5 bits;
// Q4_K, Q5_K, Q6_K are 256-value super-blocks with 6- or 8-bit sub-block scales.
enum class DType { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K };

// Every DType, in enum order.
inline constexpr DType kAllDTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0,
                                       DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                       DType::Q4_K, DType::Q5_K, DType::Q6_K};

// A type's storage unit: `values` consecutive values of a row take `bytes` bytes (1 and the
// element size for f32/f16/bf16). A row of a block type holds a whole number of blocks.
struct BlockShape {
  int64_t values;
  size_t bytes;
};
BlockShape dtype_block(DType);
inline bool dtype_is_quantized(DType t) { return dtype_block(t).values > 1; }
// Whether a row of `values` values is whole blocks of `t` (any row is, for f32, f16, bf16).
inline bool row_fits(DType t, int64_t values) { return values % dtype_block(t).values == 0; }

inline constexpr int64_t kQ8_0Block = 32;       // values per Q8_0 block
inline constexpr size_t kQ8_0BlockBytes = 34;  // 2-byte scale + 32 int8

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k".
const char* dtype_name(DType);
// Every dtype_name, comma-separated ("f32, f16, ..."), for error messages.
std::string supported_dtypes();
// Inverse of dtype_name (case-sensitive); nullopt for any other text.
std::optional<DType> dtype_from_name(const char* name);

// ggml's type id of a dtype (F32 0, F16 1, Q4_0 2, Q4_1 3, Q5_0 6, Q5_1 7, Q8_0 8, Q4_K 12,
// Q5_K 13, Q6_K 14, BF16 30) and back; nullopt when the id is not one of those.
uint32_t ggml_type_id(DType);
std::optional<DType> dtype_from_ggml(uint32_t id);
// ggml's name of any ggml type id ("q4_K", ...), or nullptr when the id is not a ggml type.
const char* ggml_type_name(uint32_t id);

// Bytes that `numel` values take; for a block type numel must be a multiple of its block
// (nullopt if not, or on overflow).
std::optional<size_t> dtype_bytes(DType, int64_t numel);

// IEEE binary16 and bfloat16 <-> binary32. The narrowing conversions round to nearest even;
// NaN stays NaN and overflow becomes infinity.
float f16_to_f32(uint16_t);
uint16_t f32_to_f16(float);
float bf16_to_f32(uint16_t);
uint16_t f32_to_bf16(float);

// Q8_0 of one row: `src.size()` must be a multiple of 32 and `dst` hold
// src.size() / 32 * 34 bytes. The scale is max|x| / 127 per block; codes round halves away
// from zero, as llama.cpp's quantizer does.
void quantize_q8_0(std::span<const float> src, std::span<std::byte> dst);
// Encodes `src.size()` values (a whole number of blocks) as block type `t` into `dst`, which
// holds dtype_bytes(t, src.size()) bytes. Scales and values are chosen as llama.cpp's
// reference quantizer chooses them (no importance matrix).
void quantize_blocks(DType t, std::span<const float> src, std::span<std::byte> dst);
// Encodes `src` as any DType (the inverse of to_f32, rounding as the type requires).
void from_f32(DType t, std::span<const float> src, std::span<std::byte> dst);
// Decodes `dst.size()` values (a whole number of blocks) of block type `t` at `src`.
void dequantize_blocks(DType t, const void* src, std::span<float> dst);
// Decodes `dst.size()` values (a whole number of blocks) of any DType at `src` into f32,
// by the formulas in quant_blocks.h.
void to_f32(DType, const void* src, std::span<float> dst);

}  // namespace bricks::model
