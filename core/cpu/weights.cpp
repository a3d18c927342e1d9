#include "cpu/weights.h"

#include "bricks/error.hpp"

namespace bricks::cpu {

const char* to_string(WeightType t) { return model::dtype_name(t); }

const char* to_string(Compute c) { return c == Compute::F32 ? "f32" : "bf16"; }

size_t row_bytes(WeightType t, int64_t cols) {
  const model::BlockShape b = model::dtype_block(t);
  return static_cast<size_t>(cols / b.values) * b.bytes;
}

void check_view(const WeightView& w, const std::string& where) {
  if (w.data == nullptr) throw Error::invalid(where + ": weight data is null");
  if (w.rows <= 0 || w.cols <= 0) {
    throw Error::invalid(where + ": weight shape " + std::to_string(w.rows) + "x" +
                         std::to_string(w.cols) + " must have positive rows and cols");
  }
  if (!model::row_fits(w.type, w.cols)) {
    const std::string name = to_string(w.type);
    throw Error::invalid(where + ": " + name + " weight has " + std::to_string(w.cols) +
                         " columns; " + name + " rows must be a multiple of " +
                         std::to_string(model::dtype_block(w.type).values) +
                         " values (re-quantise the model or store this tensor as f16)");
  }
}

}  // namespace bricks::cpu
