#include "cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <tbb/parallel_for.h>

#include "bricks/error.hpp"
#include "cpu/cpu_features.h"
#include "cpu/ops_kernels.h"

namespace bricks::cpu {

void rmsnorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    // Double partial sums: dim is a few thousand, and the f32 reference must stay exact.
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= dim; i += 4) {
      for (int j = 0; j < 4; ++j) s[j] += static_cast<double>(xr[i + j]) * xr[i + j];
    }
    for (; i < dim; ++i) s[0] += static_cast<double>(xr[i]) * xr[i];
    const double mean = (s[0] + s[1] + s[2] + s[3]) / static_cast<double>(dim);
    const float scale = static_cast<float>(1.0 / std::sqrt(mean + static_cast<double>(eps)));
    for (int64_t j = 0; j < dim; ++j) yr[j] = xr[j] * scale * weight[j];
  }
}

void rope_angles(const int32_t* positions, int64_t tokens, int32_t head_dim, float theta,
                 std::vector<float>& table) {
  if (head_dim <= 0 || head_dim % 2 != 0) {
    throw Error::invalid("rope: head_dim " + std::to_string(head_dim) +
                         " must be positive and even");
  }
  const int32_t half = head_dim / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int32_t i = 0; i < half; ++i) {
    inv_freq[static_cast<size_t>(i)] = std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
  }
  table.resize(static_cast<size_t>(tokens * head_dim));
  for (int64_t t = 0; t < tokens; ++t) {
    float* cs = table.data() + t * head_dim;
    for (int32_t i = 0; i < half; ++i) {
      const double a = static_cast<double>(positions[t]) * inv_freq[static_cast<size_t>(i)];
      cs[i] = static_cast<float>(std::cos(a));
      cs[half + i] = static_cast<float>(std::sin(a));
    }
  }
}

void rope_apply(float* x, const float* table, int64_t tokens, int32_t heads, int32_t head_dim) {
  const int32_t half = head_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* cs = table + t * head_dim;
    const float* sn = cs + half;
    for (int32_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * head_dim;
      for (int32_t i = 0; i < half; ++i) {
        const float a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * cs[i] - b * sn[i];
        v[2 * i + 1] = a * sn[i] + b * cs[i];
      }
    }
  }
}

void rope(float* x, const int32_t* positions, int64_t tokens, int32_t heads, int32_t head_dim,
          float theta) {
  std::vector<float> table;
  rope_angles(positions, tokens, head_dim, theta, table);
  rope_apply(x, table.data(), tokens, heads, head_dim);
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  const Isa isa = active_isa();
  auto part = [&](int64_t begin, int64_t end) {
    switch (isa) {
      case Isa::Avx512:
        return detail::silu_mul_avx512(gate + begin, up + begin, end - begin, out + begin);
      case Isa::Avx2:
        return detail::silu_mul_avx2(gate + begin, up + begin, end - begin, out + begin);
      case Isa::Scalar:
        break;
    }
    for (int64_t i = begin; i < end; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  };
  // A prompt's FFN activations (tokens x ffn values) are shared out; a decode step's are not.
  constexpr int64_t kChunk = 16384;
  if (n < 4 * kChunk) return part(0, n);
  tbb::parallel_for(int64_t{0}, (n + kChunk - 1) / kChunk,
                    [&](int64_t c) { part(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::fmax(mx, x[i]);
  if (std::isinf(mx) && mx < 0) {  // every entry -inf: uniform
    for (int64_t i = 0; i < n; ++i) x[i] = 1.0f / static_cast<float>(n);
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) continue;
    if (best < 0 || x[i] > x[best]) best = i;
  }
  return best;
}

}  // namespace bricks::cpu
