#include "cpu/quant_dot.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/threads.h"

namespace bricks::cpu::detail {
namespace {

// n values with one scale d = max|x| / 127 (NaN where a value is NaN or infinite): returns d
// and writes q = x / d rounded half away from zero; the clamp also maps NaN to a defined value.
float quantize_values(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f, probe = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    amax = std::max(amax, std::abs(x[j]));
    probe += x[j] * 0.0f;  // NaN if any value is NaN or infinite
  }
  const float scale = amax / 127.0f + probe;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    const float v = x[j] * inv;
    const float r = std::min(127.0f, std::max(-127.0f, v + (v >= 0.0f ? 0.5f : -0.5f)));
    q[j] = static_cast<int8_t>(static_cast<int>(r));
  }
  return scale;
}

// One block of 32 values; q, d and s point at the block's first value and lane.
void quantize_block(const float* x, int8_t* q, float* d, float* s) {
  const float scale = quantize_values(x, kQuantBlock, q);
  for (int l = 0; l < kQuantBlock / kQuantLane; ++l) {
    const int8_t* ql = q + l * kQuantLane;
    d[l] = scale;
    s[l] = scale * static_cast<float>(ql[0] + ql[1] + ql[2] + ql[3]);
  }
}

// The row quantizer of the dispatch level; each gives the same bytes (quantize_simd.cpp).
QuantizeRowFn quantize_row_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return quantize_row_avx512;
    case Isa::Avx2:
      return quantize_row_avx2;
    case Isa::Scalar:
      break;
  }
  return quantize_row_portable;
}

// Fills row i of out.k from out.d and out.s (quant_dot.h, kSuperFloats).
void super_sums(QuantizedActivations& out, int64_t i) {
  constexpr int64_t kSuper = model::kQKK;
  const int64_t supers = out.cols / kSuper;
  const int64_t lanes = out.padded / kQuantLane;
  for (int64_t b = 0; b < supers; ++b) {
    const float* d = out.d.data() + i * lanes + b * (kSuper / kQuantLane);
    const float* s = out.s.data() + i * lanes + b * (kSuper / kQuantLane);
    float* k = out.k.data() + i * out.super_stride + b * kSuperFloats;
    for (int g = 0; g < 16; ++g) {  // groups of 16 values, 4 lanes each
      k[kSuperD16 + g] = d[4 * g];
      k[kSuperS16 + g] = s[4 * g] + s[4 * g + 1] + s[4 * g + 2] + s[4 * g + 3];
    }
    for (int j = 0; j < 8; ++j) {
      k[kSuperD32 + j] = k[kSuperD16 + 2 * j];
      k[kSuperS32 + j] = k[kSuperS16 + 2 * j] + k[kSuperS16 + 2 * j + 1];
    }
  }
}

// Activation values from which the rows are quantized on all threads. On the calling thread
// alone, with the other threads idle meanwhile, a 128-token prefill ran at 84-96 tok/s
// against 100-105 (q4_k_m and q8_0, 2 threads, AVX-512 EPYC).
constexpr int64_t kParallelValues = 1 << 16;

}  // namespace

void quantize_row_portable(const float* x, int64_t cols, int8_t* q, float* d, float* s) {
  for (int64_t k = 0; k < cols; k += kQuantBlock) {
    quantize_block(x + k, q + k, d + k / kQuantLane, s + k / kQuantLane);
  }
}

void quantize_super_row_portable(const float* x, int64_t cols, int8_t* q, float* d, int16_t* s) {
  for (int64_t k = 0; k < cols; k += model::kQKK) {
    float amax = 0.0f, max = 0.0f, probe = 0.0f;
    for (int64_t j = k; j < k + model::kQKK; ++j) {
      if (std::abs(x[j]) > amax) {
        amax = std::abs(x[j]);
        max = x[j];
      }
      probe += x[j] * 0.0f;  // NaN if any value is NaN or infinite
    }
    if (probe != probe) {
      d[k / model::kQKK] = std::numeric_limits<float>::quiet_NaN();
      std::fill(q + k, q + k + model::kQKK, int8_t{0});
    } else if (!std::isfinite(-128.0f / max)) {  // zero, or so small that the scale overflows
      d[k / model::kQKK] = 0.0f;
      std::fill(q + k, q + k + model::kQKK, int8_t{0});
    } else {
      const float iscale = -128.0f / max;
      d[k / model::kQKK] = 1.0f / iscale;
      for (int64_t j = k; j < k + model::kQKK; ++j) {
        q[j] = static_cast<int8_t>(std::min(127L, std::lrint(iscale * x[j])));
      }
    }
    for (int64_t g = k; g < k + model::kQKK; g += 16) {
      int sum = 0;
      for (int64_t j = g; j < g + 16; ++j) sum += q[j];
      s[g / 16] = static_cast<int16_t>(sum);
    }
  }
}

void quantize_activations(const float* x, int64_t m, int64_t cols, QuantizedActivations& out,
                          ActivationForms forms) {
  out.m = m;
  out.cols = cols;
  out.padded = quant_padded(cols);
  out.super_stride = cols / model::kQKK * kSuperFloats;
  const int64_t lanes = out.padded / kQuantLane;
  const bool blocks = forms != ActivationForms::SuperBlocks;
  if (blocks) {
    out.q.resize(static_cast<size_t>(m * out.padded));
    out.d.resize(static_cast<size_t>(m * lanes));
    out.s.resize(static_cast<size_t>(m * lanes));
    out.k.resize(static_cast<size_t>(m * out.super_stride));
  }
  out.has_q8k = forms != ActivationForms::Blocks && cols % model::kQKK == 0;
  if (out.has_q8k) {
    out.q8k.resize(static_cast<size_t>(m * cols));
    out.d8k.resize(static_cast<size_t>(m * cols / model::kQKK));
    out.s8k.resize(static_cast<size_t>(m * cols / 16));
  }
  const QuantizeRowFn quantize_row = quantize_row_for(active_isa());
  const QuantizeSuperRowFn quantize_super =
      active_isa() >= Isa::Avx2 ? quantize_super_row_avx2 : quantize_super_row_portable;
  auto rows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (blocks) {
        int8_t* q = out.q.data() + i * out.padded;
        float* d = out.d.data() + i * lanes;
        float* s = out.s.data() + i * lanes;
        quantize_row(x + i * cols, cols, q, d, s);
        std::fill(q + cols, q + out.padded, int8_t{0});
        std::fill(d + cols / kQuantLane, d + lanes, 0.0f);
        std::fill(s + cols / kQuantLane, s + lanes, 0.0f);
        super_sums(out, i);
      }
      if (out.has_q8k) {
        quantize_super(x + i * cols, cols, out.q8k.data() + i * cols,
                       out.d8k.data() + i * cols / model::kQKK, out.s8k.data() + i * cols / 16);
      }
    }
  };
  if (m < 2 || m * cols < kParallelValues || num_threads() == 1) {
    rows(0, m);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, m),
                    [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
}

const char* to_string(QuantIsa isa) {
  switch (isa) {
    case QuantIsa::Scalar:
      return "scalar";
    case QuantIsa::Avx2:
      return "avx2";
    case QuantIsa::AvxVnni:
      return "avx-vnni";
    case QuantIsa::Avx512Vnni:
      return "avx512-vnni";
  }
  return "?";
}

bool quant_isa_supported(QuantIsa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case QuantIsa::Scalar:
      return true;
    case QuantIsa::Avx2:
      return best_isa() >= Isa::Avx2;
    case QuantIsa::AvxVnni:
      return best_isa() >= Isa::Avx2 && f.avx_vnni;
    case QuantIsa::Avx512Vnni:
      return best_isa() >= Isa::Avx512 && f.avx512vnni;
  }
  return false;
}

QuantIsa quant_isa_for(Isa isa) {
  if (isa == Isa::Avx512 && quant_isa_supported(QuantIsa::Avx512Vnni)) return QuantIsa::Avx512Vnni;
  if (isa >= Isa::Avx2 && quant_isa_supported(QuantIsa::AvxVnni)) return QuantIsa::AvxVnni;
  if (isa >= Isa::Avx2 && quant_isa_supported(QuantIsa::Avx2)) return QuantIsa::Avx2;
  return QuantIsa::Scalar;
}

bool quant_uses_q8k(QuantIsa isa, WeightType t) {
  return isa == QuantIsa::Avx2 &&
         (t == WeightType::Q4_K || t == WeightType::Q5_K || t == WeightType::Q6_K);
}

QuantGemvFn quant_gemv_kernel(QuantIsa isa, WeightType t) {
  switch (isa) {
    case QuantIsa::Scalar:
      return quant_gemv_scalar(t);
    case QuantIsa::Avx2:
      return quant_gemv_avx2(t);
    case QuantIsa::AvxVnni:
      return quant_gemv_avx_vnni(t);
    case QuantIsa::Avx512Vnni:
      return quant_gemv_avx512_vnni(t);
  }
  return nullptr;
}

}  // namespace bricks::cpu::detail
