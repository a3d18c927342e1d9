// Random weight matrices in every stored type, and the double-precision reference product.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "bricks/model/dtype.h"
#include "bricks/model/model_error.h"
#include "bricks/model/quant_blocks.h"
#include "cpu/convert.h"
#include "cpu/cpu_features.h"
#include "cpu/weights.h"

namespace bricks::cpu::testing {

// The instruction sets this CPU runs, narrowest first (for set_isa_limit loops).
inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (static_cast<int>(isa) <= static_cast<int>(best_isa())) out.push_back(isa);
  }
  return out;
}

// One row of random blocks of a block type other than q8_0: model::from_f32 of random
// values where the quantizer is built, else random bytes with every f16 scale (and min)
// replaced by a finite value of a realistic size (mins negative, as the quantizer writes them).
inline void random_block_row(WeightType type, int64_t cols, std::mt19937& gen, unsigned char* row) {
  const size_t bytes = row_bytes(type, cols);
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(cols));
  for (float& v : values) v = val(gen);
  try {
    model::from_f32(type, values, std::as_writable_bytes(std::span(row, bytes)));
    return;
  } catch (const model::ModelError&) {
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t j = 0; j < bytes; ++j) row[j] = static_cast<unsigned char>(byte(gen));
  const auto shape = model::dtype_block(type);
  auto put = [&](unsigned char* blk, size_t offset, float v) {
    const uint16_t h = f32_to_f16_bits(v);
    std::memcpy(blk + offset, &h, 2);
  };
  for (int64_t b = 0; b < cols / shape.values; ++b) {
    unsigned char* blk = row + b * shape.bytes;
    const float d = 0.002f + 0.02f * (val(gen) + 1.0f);
    switch (type) {
      case WeightType::Q4_1:
      case WeightType::Q5_1:  // {d, m, ...}: values d * q + m with q in [0, 16) or [0, 32)
        put(blk, 0, d);
        put(blk, 2, -8.0f * d * (val(gen) + 1.0f));
        break;
      case WeightType::Q4_K:
      case WeightType::Q5_K:  // {d, dmin, ...}: sub-block scales and mins are up to 63
        put(blk, 0, d / 32.0f);
        put(blk, 2, d / 8.0f);
        break;
      case WeightType::Q6_K:
        put(blk, offsetof(model::BlockQ6_K, d), d / 64.0f);
        break;
      default:
        put(blk, 0, d);
        break;
    }
  }
}

// Owns the bytes of a random [rows][cols] matrix of type `type`.
struct RandomWeights {
  RandomWeights(WeightType type, int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> val(-1.0f, 1.0f);
    bytes.resize(row_bytes(type, cols) * rows);
    for (int64_t r = 0; r < rows; ++r) {
      unsigned char* row = bytes.data() + row_bytes(type, cols) * r;
      if (type == WeightType::Q8_0) {
        std::uniform_int_distribution<int> q(-127, 127);
        for (int64_t b = 0; b < cols / kQ8Block; ++b) {
          unsigned char* blk = row + b * kQ8BlockBytes;
          const uint16_t d = f32_to_f16_bits(0.001f + 0.02f * (val(gen) + 1.0f));
          std::memcpy(blk, &d, 2);
          for (int j = 0; j < kQ8Block; ++j) blk[2 + j] = static_cast<unsigned char>(q(gen));
        }
        continue;
      }
      if (model::dtype_is_quantized(type)) {
        random_block_row(type, cols, gen, row);
        continue;
      }
      for (int64_t c = 0; c < cols; ++c) {
        const float v = val(gen);
        if (type == WeightType::F32) {
          std::memcpy(row + 4 * c, &v, 4);
        } else {
          const uint16_t h = type == WeightType::F16 ? f32_to_f16_bits(v) : f32_to_bf16_bits(v);
          std::memcpy(row + 2 * c, &h, 2);
        }
      }
    }
    view = WeightView{type, rows, cols, bytes.data()};
  }
  std::vector<unsigned char> bytes;
  WeightView view;
};

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> val(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = val(gen);
  return v;
}

// ref[i][n] = sum_k x[i][k] * W[n][k] in double over the dequantised weights; abs[i][n] is
// sum_k |x[i][k] * W[n][k]|, the scale that bounds the rounding error of any summation order.
struct Reference {
  std::vector<double> y, abs;
};

inline Reference reference_product(const WeightView& w, const float* x, int64_t m) {
  Reference ref{std::vector<double>(m * w.rows), std::vector<double>(m * w.rows)};
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    dequantize_row(w, n, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double s = 0, a = 0;
      for (int64_t k = 0; k < w.cols; ++k) {
        const double p = static_cast<double>(x[i * w.cols + k]) * row[k];
        s += p;
        a += std::abs(p);
      }
      ref.y[i * w.rows + n] = s;
      ref.abs[i * w.rows + n] = a;
    }
  }
  return ref;
}

// Bound on |y - y_float| that quantizing the activations to 8 bits per block adds (blocks
// of 32, or the 256-value super-blocks of the form some k-quant kernels read):
// each value moves by at most half its block's scale max|x| / 127 (slightly more for the
// rounding of x / d), so output [i][n] moves by at most sum_k |W[n][k]| * d(i, k) / 2.
inline std::vector<double> activation_rounding_bound(const WeightView& w, const float* x, int64_t m,
                                                     int64_t block = 32) {
  std::vector<double> bound(static_cast<size_t>(m * w.rows));
  std::vector<double> half_scale(static_cast<size_t>(w.cols));
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t k0 = 0; k0 < w.cols; k0 += block) {
      float amax = 0.0f;
      for (int64_t k = k0; k < std::min(w.cols, k0 + block); ++k) {
        amax = std::max(amax, std::abs(x[i * w.cols + k]));
      }
      for (int64_t k = k0; k < std::min(w.cols, k0 + block); ++k) {
        half_scale[k] = 0.5001 * amax / 127.0;
      }
    }
    for (int64_t n = 0; n < w.rows; ++n) {
      dequantize_row(w, n, row.data());
      double b = 0;
      for (int64_t k = 0; k < w.cols; ++k)
        b += std::abs(static_cast<double>(row[k])) * half_scale[k];
      bound[i * w.rows + n] = b;
    }
  }
  return bound;
}

}  // namespace bricks::cpu::testing
