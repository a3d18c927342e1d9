// llama.cpp's file types (GGUF's `general.file_type`) and the rule that gives each tensor of
// a model its weight type under one. A file type names a base type; as llama.cpp's quantizer
// does, a quantized file stores the output matrix in q6_K, gives some attn_v and ffn_down
// matrices more bits in the _M mixes (and in q4_k), and falls back to a 32-value block type
// for a tensor whose rows are not whole 256-value super-blocks. `bricks quantize` and
// `bricks make-model` both take every tensor's type from tensor_type().
//
// Thread safety: everything here is a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bricks/model/dtype.h"

namespace bricks::model {

// The values are llama.cpp's LLAMA_FTYPE numbers, as general.file_type stores them.
enum class FileType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q4_K_S = 14,  // "q4_k": q4_K, some attn_v/ffn_down of the first layers in q5_K
  Q4_K_M = 15,  // "q4_k_m": q4_K, attn_v/ffn_down of "more bits" layers in q6_K
  Q5_K_S = 16,  // "q5_k": q5_K
  Q5_K_M = 17,  // "q5_k_m": q5_K, attn_v/ffn_down of "more bits" layers in q6_K
  Q6_K = 18,
  BF16 = 32,
};

// Every FileType, from the largest files to the smallest.
inline constexpr FileType kAllFileTypes[] = {
    FileType::F32,    FileType::F16,    FileType::BF16, FileType::Q8_0, FileType::Q6_K,
    FileType::Q5_K_M, FileType::Q5_K_S, FileType::Q5_1, FileType::Q5_0, FileType::Q4_K_M,
    FileType::Q4_K_S, FileType::Q4_1,   FileType::Q4_0};

// The command-line name: the base type's dtype_name ("q4_k" for Q4_K_S), "q4_k_m", "q5_k_m".
const char* file_type_name(FileType);
// Inverse of file_type_name, ignoring case ("Q4_K_M" works); nullopt for any other text.
std::optional<FileType> file_type_from_name(std::string_view name);
// Every file_type_name, comma-separated, for messages.
std::string supported_file_types();
// The type of most weight matrices (Q4_K_M -> q4_K).
DType file_type_base(FileType);
// The file type whose base is `t` (q4_K -> Q4_K_S).
FileType file_type_of(DType t);

// Whether llama.cpp's quantizer re-encodes the tensor at all: 2-D and 3-D (expert) weights,
// but not norms or the expert router (ffn_gate_inp), which keep their stored type.
bool is_quantizable(std::string_view name, size_t n_dims);

// What the rule knows of one quantizable tensor and its model.
struct TensorSlot {
  std::string_view name;   // GGUF name, e.g. "blk.3.attn_v.weight"
  int64_t row = 0;         // ne[0], values per row
  int layer = -1;          // N of "blk.N." (tensor_layer), -1 outside the blocks
  int n_layers = 0;        // the model's block count
  int n_experts = 0;       // 0 for a dense model
  bool has_output = true;  // false when the output matrix is token_embd (tied)
};

// N of a name "blk.N. ...", or -1.
int tensor_layer(std::string_view name);

// llama.cpp's choice for the tensor before the row check (llama_tensor_get_type without an
// importance matrix): the base type, except
//  - output.weight (token_embd.weight when tied): q6_K, or q8_0 when its rows are not whole
//    base-type blocks; q8_0 files keep q8_0
//  - attn_v.weight and ffn_down: q6_K in q4_k_m/q5_k_m on layers i with i < n/8,
//    i >= 7n/8 or (i - n/8) % 3 == 2; q5_K in q4_k for attn_v of layers 0..3 and ffn_down of
//    layers below n/8
//  - models of 8 experts: attn_v and attn_k q8_0, attn_output q5_K in q4_k and q4_k_m.
// F32, F16 and BF16 files give every quantizable tensor the base type.
DType preferred_tensor_type(FileType, const TensorSlot&);
// `t`, or what llama.cpp falls back to when `row` is not a whole number of its blocks:
// q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0, and f16 when that does not fit either.
DType fit_row(DType t, int64_t row);
// fit_row(preferred_tensor_type(ft, s), s.row): the type the tensor is stored in.
DType tensor_type(FileType ft, const TensorSlot& s);

}  // namespace bricks::model
