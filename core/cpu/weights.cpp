#include "cpu/weights.h"

#include "bricks/error.hpp"

namespace bricks::cpu {

const char* to_string(WeightType t) {
  switch (t) {
    case WeightType::F32:
      return "f32";
    case WeightType::F16:
      return "f16";
    case WeightType::BF16:
      return "bf16";
    case WeightType::Q8_0:
      return "q8_0";
  }
  return "?";
}

const char* to_string(Compute c) { return c == Compute::F32 ? "f32" : "bf16"; }

size_t row_bytes(WeightType t, int64_t cols) {
  switch (t) {
    case WeightType::F32:
      return static_cast<size_t>(cols) * 4;
    case WeightType::F16:
    case WeightType::BF16:
      return static_cast<size_t>(cols) * 2;
    case WeightType::Q8_0:
      return static_cast<size_t>(cols / kQ8Block) * kQ8BlockBytes;
  }
  return 0;
}

void check_view(const WeightView& w, const std::string& where) {
  if (w.data == nullptr) throw Error::invalid(where + ": weight data is null");
  if (w.rows <= 0 || w.cols <= 0) {
    throw Error::invalid(where + ": weight shape " + std::to_string(w.rows) + "x" +
                         std::to_string(w.cols) + " must have positive rows and cols");
  }
  if (w.type == WeightType::Q8_0 && w.cols % kQ8Block != 0) {
    throw Error::invalid(where + ": q8_0 weight has " + std::to_string(w.cols) +
                         " columns; q8_0 rows must be a multiple of 32 values "
                         "(re-quantise the model or store this tensor as f16)");
  }
}

}  // namespace bricks::cpu
