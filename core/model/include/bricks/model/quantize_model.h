// Re-encoding a GGUF model's weights as one of llama.cpp's file types (`bricks quantize`).
// The output keeps the input's metadata, with general.file_type and
// general.quantization_version (2) set as llama-quantize sets them, and its tensors in the
// same order; each tensor's type comes from tensor_type() (file_type.h).
//
// Thread safety: the functions share nothing; quantize_model runs its own worker threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bricks/model/file_type.h"
#include "bricks/model/gguf.h"

namespace bricks::model {

// What happens to one tensor.
struct TensorQuantPlan {
  std::string name;
  std::vector<int64_t> ne;
  DType from = DType::F32;    // as stored in the input
  DType to = DType::F32;      // as written
  DType wanted = DType::F32;  // the rule's choice; differs from `to` when the rows did not fit
};

// The plan for every tensor of `in` (file order): quantizable tensors (is_quantizable) get
// tensor_type(ft, ...) with the layer count and expert count of the file's metadata
// (`<arch>.block_count`, `<arch>.expert_count`); the others keep their stored type.
std::vector<TensorQuantPlan> plan_quantize(const GgufFile& in, FileType ft);

struct QuantizeReport {
  std::map<DType, int> tensors;  // tensors written, per type
  uint64_t values = 0;           // values of all tensors
  uint64_t bytes_in = 0;         // tensor data bytes of the input
  uint64_t bytes_out = 0;        // and of the output
  int fallbacks = 0;             // tensors stored in a fallback type (plan `to` != `wanted`)
  int decoded = 0;               // quantized input tensors decoded to f32 to be re-encoded
};

// Writes `out` as described at the top: a tensor whose planned type is its stored type is
// copied byte for byte; any other is decoded to f32 (to_f32) and encoded (from_f32), rows
// spread over `threads` threads (0: one per core). The file is written as out + ".partial"
// and renamed into place when complete, so `out` may be the input itself. `progress` gets
// the fraction of values done. Throws ModelError naming the file and, where it applies,
// the tensor: a NaN or infinity in a tensor to encode, a file that cannot be written.
QuantizeReport quantize_model(const GgufFile& in, FileType ft, const std::filesystem::path& out,
                              const std::function<void(double fraction)>& progress = {},
                              int threads = 0);

}  // namespace bricks::model
