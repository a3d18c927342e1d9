#include "cpu/convert.h"

#include <string>
#include <vector>

#include "bricks/error.hpp"
#include "bricks/model/dtype.h"
#include "cpu/convert_kernels.h"
#include "cpu/cpu_features.h"

namespace bricks::cpu {

float f16_bits_to_f32(uint16_t h) { return model::f16_to_f32(h); }

uint16_t f32_to_f16_bits(float f) { return model::f32_to_f16(f); }

namespace {

// Converts in[0, n) to out with the kernel of the active instruction set; `one` converts a
// single value on the scalar path.
template <class In, class Out, class One>
void convert_array(const In* in, Out* out, int64_t n, void (*avx512)(const In*, Out*, int64_t),
                   void (*avx2)(const In*, Out*, int64_t), One one) {
  switch (active_isa()) {
    case Isa::Avx512:
      return avx512(in, out, n);
    case Isa::Avx2:
      return avx2(in, out, n);
    case Isa::Scalar:
      break;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = one(in[i]);
}

}  // namespace

void f16_to_f32(const uint16_t* in, float* out, int64_t n) {
  convert_array(in, out, n, detail::f16_to_f32_avx512, detail::f16_to_f32_avx2, f16_bits_to_f32);
}

void f32_to_f16(const float* in, uint16_t* out, int64_t n) {
  convert_array(in, out, n, detail::f32_to_f16_avx512, detail::f32_to_f16_avx2, f32_to_f16_bits);
}

void bf16_to_f32(const uint16_t* in, float* out, int64_t n) {
  convert_array(in, out, n, detail::bf16_to_f32_avx512, detail::bf16_to_f32_avx2, bf16_bits_to_f32);
}

void f32_to_bf16(const float* in, uint16_t* out, int64_t n) {
  convert_array(in, out, n, detail::f32_to_bf16_avx512, detail::f32_to_bf16_avx2, f32_to_bf16_bits);
}

void f16_to_bf16(const uint16_t* in, uint16_t* out, int64_t n) {
  convert_array(in, out, n, detail::f16_to_bf16_avx512, detail::f16_to_bf16_avx2,
                [](uint16_t h) { return f32_to_bf16_bits(f16_bits_to_f32(h)); });
}

void round_to_bf16(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = round_to_bf16(in[i]);
}

namespace {

void dequantize_unchecked(const WeightView& w, int64_t row, float* out) {
  const char* base = static_cast<const char*>(w.data) + row_bytes(w.type, w.cols) * row;
  switch (w.type) {
    case WeightType::F32:
      std::memcpy(out, base, sizeof(float) * w.cols);
      return;
    case WeightType::F16:
      return f16_to_f32(reinterpret_cast<const uint16_t*>(base), out, w.cols);
    case WeightType::BF16:
      return bf16_to_f32(reinterpret_cast<const uint16_t*>(base), out, w.cols);
    case WeightType::Q8_0:
    case WeightType::Q4_0:
    case WeightType::Q4_1:
    case WeightType::Q5_0:
    case WeightType::Q5_1:
    case WeightType::Q4_K:
    case WeightType::Q5_K:
    case WeightType::Q6_K:
      return model::dequantize_blocks(w.type, base, std::span<float>(out, w.cols));
  }
}

}  // namespace

void dequantize_row(const WeightView& w, int64_t row, float* out) {
  check_view(w, "dequantize_row");
  if (w.layout != WeightLayout::Gguf) {
    throw Error::invalid(
        "dequantize_row: the weights are in the lane layout, which only a Linear reads; "
        "dequantize the file's view of the matrix");
  }
  if (row < 0 || row >= w.rows) {
    throw Error::invalid("dequantize_row: row " + std::to_string(row) + " is outside [0, " +
                         std::to_string(w.rows) + ")");
  }
  dequantize_unchecked(w, row, out);
}

void dequantize_rows_bf16(const WeightView& w, int64_t row0, int64_t count, uint16_t* out) {
  const char* rows = static_cast<const char*>(w.data) + row_bytes(w.type, w.cols) * row0;
  if (w.type == WeightType::BF16) {
    std::memcpy(out, rows, sizeof(uint16_t) * w.cols * count);
    return;
  }
  if (w.type == WeightType::F16) {
    f16_to_bf16(reinterpret_cast<const uint16_t*>(rows), out, w.cols * count);
    return;
  }
  thread_local std::vector<float> row;
  row.resize(w.cols);
  for (int64_t r = 0; r < count; ++r) {
    dequantize_unchecked(w, row0 + r, row.data());
    f32_to_bf16(row.data(), out + r * w.cols, w.cols);
  }
}

void embed_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out) {
  check_view(table, "embed_rows");
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows) {
      throw Error::invalid("embed_rows: token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is outside the vocabulary [0, " +
                           std::to_string(table.rows) + ")");
    }
  }
  for (int64_t i = 0; i < n; ++i) dequantize_unchecked(table, ids[i], out + i * table.cols);
}

}  // namespace bricks::cpu
