#include "sim/cost_fit.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

constexpr int kParams = 5;
using Vec = std::array<double, kParams>;

// The fitted constants, as logarithms so that every step keeps them positive.
Vec to_params(const CostConstants& k) {
  return {std::log(k.gemm_efficiency_max), std::log(k.gemm_half_outputs),
          std::log(k.memory_efficiency), std::log(k.gemm_latency_s), std::log(k.roofline_exponent)};
}

CostConstants from_params(const Vec& x, CostConstants k) {
  // Shares of a peak stay at or below the peak.
  k.gemm_efficiency_max = std::min(1.0, std::exp(x[0]));
  k.gemm_half_outputs = std::exp(x[1]);
  k.memory_efficiency = std::min(1.0, std::exp(x[2]));
  k.gemm_latency_s = std::exp(x[3]);
  k.roofline_exponent = std::exp(x[4]);
  return k;
}

std::vector<double> residuals(const GpuSpec& gpu, std::span<const LinearSample> samples,
                              const CostConstants& k) {
  std::vector<double> r;
  r.reserve(samples.size());
  for (const LinearSample& s : samples) {
    r.push_back(std::log(modelled_linear_seconds(gpu, s, k) / s.linear_s));
  }
  return r;
}

double squares(const std::vector<double>& r) {
  double sum = 0;
  for (double v : r) sum += v * v;
  return sum;
}

// Solves a * x = b by Gaussian elimination with partial pivoting; false when singular.
bool solve(std::array<Vec, kParams> a, Vec b, Vec& x) {
  for (int col = 0; col < kParams; ++col) {
    int pivot = col;
    for (int row = col + 1; row < kParams; ++row) {
      if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
    }
    if (std::abs(a[pivot][col]) < 1e-300) return false;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (int row = col + 1; row < kParams; ++row) {
      const double f = a[row][col] / a[col][col];
      for (int j = col; j < kParams; ++j) a[row][j] -= f * a[col][j];
      b[row] -= f * b[col];
    }
  }
  for (int row = kParams - 1; row >= 0; --row) {
    double v = b[row];
    for (int j = row + 1; j < kParams; ++j) v -= a[row][j] * x[j];
    x[row] = v / a[row][row];
  }
  return true;
}

}  // namespace

double modelled_linear_seconds(const GpuSpec& gpu, const LinearSample& s, const CostConstants& k) {
  CostModelOptions o;
  o.tensor_parallel = s.tp;
  o.constants = k;
  const CostModel m(gpu, s.shape, o);
  return m.linear_seconds(static_cast<double>(s.tokens)) / s.shape.config.n_layers;
}

FitResult fit_linear_constants(const GpuSpec& gpu, std::span<const LinearSample> samples,
                               const CostConstants& start) {
  if (samples.empty()) throw SimError("no measured samples to fit the cost model to");
  CostConstants base = start;
  double other = 0;
  int small = 0;
  for (const LinearSample& s : samples) {
    if (s.tokens <= 64 && s.other_s > 0) {
      other += s.other_s;
      ++small;
    }
  }
  if (small > 0) base.layer_overhead_s = other / small;

  Vec x = to_params(start);
  std::vector<double> r = residuals(gpu, samples, from_params(x, base));
  double cost = squares(r);
  double lambda = 1e-3;
  FitResult out;
  for (int it = 0; it < 200; ++it) {
    out.iterations = it + 1;
    // The Jacobian of the residuals by forward differences.
    std::vector<Vec> jac(r.size());
    for (int p = 0; p < kParams; ++p) {
      Vec xp = x;
      xp[p] += 1e-6;
      const std::vector<double> rp = residuals(gpu, samples, from_params(xp, base));
      for (size_t i = 0; i < r.size(); ++i) jac[i][p] = (rp[i] - r[i]) / 1e-6;
    }
    std::array<Vec, kParams> jtj{};
    Vec jtr{};
    for (size_t i = 0; i < r.size(); ++i) {
      for (int a = 0; a < kParams; ++a) {
        jtr[a] -= jac[i][a] * r[i];
        for (int b = 0; b < kParams; ++b) jtj[a][b] += jac[i][a] * jac[i][b];
      }
    }
    bool improved = false;
    while (lambda < 1e12) {
      std::array<Vec, kParams> damped = jtj;
      for (int a = 0; a < kParams; ++a) damped[a][a] += lambda * std::max(jtj[a][a], 1e-12);
      Vec step{};
      if (!solve(damped, jtr, step)) {
        lambda *= 10;
        continue;
      }
      Vec next = x;
      for (int a = 0; a < kParams; ++a) next[a] += step[a];
      const std::vector<double> rn = residuals(gpu, samples, from_params(next, base));
      const double cn = squares(rn);
      if (std::isfinite(cn) && cn < cost) {
        const double gain = cost - cn;
        x = to_params(from_params(next, base));  // a share clamped at 1 stays there
        r = rn;
        cost = cn;
        lambda = std::max(lambda / 10, 1e-12);
        improved = gain > 1e-12 * cost;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  out.constants = from_params(x, base);
  out.rms_log_error = std::sqrt(cost / static_cast<double>(r.size()));
  return out;
}

}  // namespace bricks::sim
