// Random weight matrices in every stored type, and the double-precision reference product.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/convert.h"
#include "cpu/weights.h"

namespace bricks::cpu::testing {

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

}  // namespace bricks::cpu::testing
