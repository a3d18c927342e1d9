#include "merge_methods.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bricks_merge {
namespace {

// |cos| above this counts as colinear for SLERP: sin(theta) is too small to divide by.
constexpr double kColinear = 0.9995;

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) from the 53 high bits.
double unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// What trimming keeps of one task vector: entries with |tau| > threshold, and the first
// `ties_kept` entries (in index order) with |tau| == threshold.
struct Trim {
  float threshold;
  int64_t ties_kept;
};

Trim find_trim(const float* x, const float* base, int64_t numel, int64_t keep) {
  if (keep >= numel) return {-1.0f, 0};  // keeps everything: every |tau| > -1
  if (keep <= 0) return {INFINITY, 0};   // keeps nothing
  std::vector<float> magnitude(static_cast<size_t>(numel));
  for (int64_t e = 0; e < numel; ++e) magnitude[e] = std::fabs(x[e] - base[e]);
  // The keep-th largest magnitude.
  std::nth_element(magnitude.begin(), magnitude.begin() + (keep - 1), magnitude.end(),
                   [](float a, float b) { return a > b; });
  const float threshold = magnitude[keep - 1];
  int64_t above = 0;
  for (int64_t e = 0; e < numel; ++e) above += std::fabs(x[e] - base[e]) > threshold ? 1 : 0;
  return {threshold, keep - above};
}

}  // namespace

uint64_t dare_stream(const std::string& tensor_name, int64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : tensor_name) h = (h ^ c) * 0x100000001b3ULL;
  return h ^ splitmix64(static_cast<uint64_t>(seed));
}

void merge_linear(const MergeInputs& in, float* out) {
  double total = 0.0;
  for (int32_t i = 0; i < in.num_inputs; ++i) total += in.weights[i];
  for (int64_t e = 0; e < in.numel; ++e) {
    double acc = 0.0;
    for (int32_t i = 0; i < in.num_inputs; ++i) acc += in.weights[i] * in.inputs[i][e];
    out[e] = static_cast<float>(acc / total);
  }
}

void merge_task_arithmetic(const MergeInputs& in, double lambda, float* out) {
  for (int64_t e = 0; e < in.numel; ++e) {
    double delta = 0.0;
    for (int32_t i = 0; i < in.num_inputs; ++i) {
      delta += in.weights[i] * (double{in.inputs[i][e]} - in.base[e]);
    }
    out[e] = static_cast<float>(in.base[e] + lambda * delta);
  }
}

void merge_ties(const MergeInputs& in, double density, double lambda, float* out) {
  const auto keep = static_cast<int64_t>(std::llround(density * static_cast<double>(in.numel)));
  std::vector<Trim> trims;
  for (int32_t i = 0; i < in.num_inputs; ++i) {
    trims.push_back(find_trim(in.inputs[i], in.base, in.numel, keep));
  }
  std::vector<double> trimmed(static_cast<size_t>(in.num_inputs));
  for (int64_t e = 0; e < in.numel; ++e) {
    double summed = 0.0;
    for (int32_t i = 0; i < in.num_inputs; ++i) {
      const float tau = in.inputs[i][e] - in.base[e];
      Trim& t = trims[static_cast<size_t>(i)];
      bool kept = std::fabs(tau) > t.threshold;
      if (!kept && std::fabs(tau) == t.threshold && t.ties_kept > 0) {
        kept = true;
        --t.ties_kept;
      }
      trimmed[static_cast<size_t>(i)] = kept ? in.weights[i] * double{tau} : 0.0;
      summed += trimmed[static_cast<size_t>(i)];
    }
    double agree = 0.0;
    double agree_weight = 0.0;
    for (int32_t i = 0; i < in.num_inputs; ++i) {
      const double v = trimmed[static_cast<size_t>(i)];
      if (v != 0.0 && (v > 0.0) == (summed > 0.0) && summed != 0.0) {
        agree += v;
        agree_weight += in.weights[i];
      }
    }
    const double delta = agree_weight != 0.0 ? agree / agree_weight : 0.0;
    out[e] = static_cast<float>(in.base[e] + lambda * delta);
  }
}

void merge_dare(const MergeInputs& in, double density, double lambda, uint64_t stream, float* out) {
  std::vector<uint64_t> keys(static_cast<size_t>(in.num_inputs));
  for (int32_t i = 0; i < in.num_inputs; ++i) {
    keys[static_cast<size_t>(i)] = splitmix64(stream ^ splitmix64(static_cast<uint64_t>(i) + 1));
  }
  for (int64_t e = 0; e < in.numel; ++e) {
    double delta = 0.0;
    for (int32_t i = 0; i < in.num_inputs; ++i) {
      const double u = unit(splitmix64(keys[static_cast<size_t>(i)] + static_cast<uint64_t>(e)));
      if (u < density) {
        delta += in.weights[i] * (double{in.inputs[i][e]} - in.base[e]) / density;
      }
    }
    out[e] = static_cast<float>(in.base[e] + lambda * delta);
  }
}

void merge_slerp(const float* a, const float* b, int64_t numel, double t, float* out) {
  double dot = 0.0, norm_a = 0.0, norm_b = 0.0;
  for (int64_t e = 0; e < numel; ++e) {
    dot += double{a[e]} * b[e];
    norm_a += double{a[e]} * a[e];
    norm_b += double{b[e]} * b[e];
  }
  double wa = 1.0 - t;
  double wb = t;
  if (norm_a > 0.0 && norm_b > 0.0) {
    const double cos_theta = std::clamp(dot / std::sqrt(norm_a * norm_b), -1.0, 1.0);
    if (std::fabs(cos_theta) <= kColinear) {
      const double theta = std::acos(cos_theta);
      const double sin_theta = std::sin(theta);
      wa = std::sin((1.0 - t) * theta) / sin_theta;
      wb = std::sin(t * theta) / sin_theta;
    }
  }
  for (int64_t e = 0; e < numel; ++e) out[e] = static_cast<float>(wa * a[e] + wb * b[e]);
}

}  // namespace bricks_merge
