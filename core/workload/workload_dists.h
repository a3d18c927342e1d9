// The random parts of a generated workload: arrival processes and length distributions.
// Each sampler is a value; randomness comes from the generator passed to each draw, so
// one seed gives one workload.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "workload/workload.h"

namespace bricks::engine {

using Rng = std::mt19937_64;

// A uniform draw in [0, 1) that does not depend on the standard library's distribution
// implementations (so workloads are the same with libstdc++ and libc++).
double uniform01(Rng& rng);
double exponential(Rng& rng, double mean);
double standard_normal(Rng& rng);
// Gamma(shape, scale=1) by Marsaglia and Tsang's method (with the shape < 1 boost).
double gamma_unit(Rng& rng, double shape);

// Gaps between arrivals with mean 1 / rate. Poisson: exponential gaps (cv 1); gamma:
// gamma-distributed gaps with shape 1 / cv^2. A rate of 0 makes every gap 0.
class ArrivalProcess {
 public:
  ArrivalProcess(double rate, double cv);
  // From the manifest's Arrival (unset: Poisson).
  static ArrivalProcess from(const bricks::manifest::Arrival& a, double rate);
  double next_gap(Rng& rng) const;
  double rate() const { return rate_; }
  double cv() const { return cv_; }

 private:
  double rate_, cv_;
};

// Parameters of ln(X) ~ Normal(mu, sigma).
struct Lognormal {
  double mu = 0, sigma = 0;
  static Lognormal from_mean_sigma(double mean, double sigma);
  static Lognormal from_median_p90(double median, double p90);
  double median() const;
  double mean() const;
};

// An inverse CDF as piecewise-linear pieces: quantile q in [q0, q1) maps to a value
// between v0 and v1. Built from quantile points or from histogram bins.
class EmpiricalDist {
 public:
  struct Piece {
    double q0, q1, v0, v1;
  };
  // Points (q, value) with q rising from 0 to 1 and values not falling.
  static EmpiricalDist from_quantiles(const std::vector<std::pair<double, double>>& points,
                                      const std::string& where);
  struct Bin {
    double lo, hi, weight;
  };
  // Bins [lo, hi) with weights >= 0 (normalised); uniform inside a bin.
  static EmpiricalDist from_histogram(const std::vector<Bin>& bins, const std::string& where);
  // `key` ("prompt_len", "output_len") of a JSON file (manifests/workloads/README.md).
  static EmpiricalDist load(const std::filesystem::path& file, const std::string& key);

  double quantile(double u) const;
  double sample(Rng& rng) const { return quantile(uniform01(rng)); }

 private:
  std::vector<Piece> pieces_;
};

// Lengths in tokens: fixed, uniform, lognormal or empirical, rounded and clamped.
class LengthSampler {
 public:
  static LengthSampler fixed(int32_t value);
  static LengthSampler uniform(int32_t lo, int32_t hi);
  static LengthSampler lognormal(Lognormal ln, int32_t lo, int32_t hi);
  static LengthSampler empirical(EmpiricalDist d, int32_t lo, int32_t hi);
  // From the manifest; `key` is the empirical file's default distribution, `field` names
  // the manifest field in errors. Throws WorkloadError.
  static LengthSampler from(const bricks::manifest::LengthDist& d, const std::string& key,
                            const std::filesystem::path& base_dir, const std::string& field);
  int32_t draw(Rng& rng) const;
  // The shortest and the longest length a draw can give; longest() is 0 when unbounded
  // (a lognormal or empirical length without max).
  int32_t shortest() const { return lo_; }
  int32_t longest() const { return hi_; }

 private:
  enum class Kind { kFixed, kUniform, kLognormal, kEmpirical };
  Kind kind_ = Kind::kFixed;
  int32_t lo_ = 1, hi_ = 1;  // clamp (hi_ 0 = none); uniform's range
  Lognormal ln_;
  EmpiricalDist emp_;
};

}  // namespace bricks::engine
