#include "workload/workload_dists.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace bricks::engine {

namespace {

// z of the standard normal's 90th percentile.
constexpr double kZ90 = 1.2815515655446004;

}  // namespace

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double exponential(Rng& rng, double mean) { return -std::log1p(-uniform01(rng)) * mean; }

double standard_normal(Rng& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double gamma_unit(Rng& rng, double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a).
    const double g = gamma_unit(rng, shape + 1.0);
    return g * std::pow(1.0 - uniform01(rng), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = standard_normal(rng);
    const double t = 1.0 + c * x;
    if (t <= 0) continue;
    const double v = t * t * t;
    const double u = 1.0 - uniform01(rng);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

ArrivalProcess::ArrivalProcess(double rate, double cv) : rate_(rate), cv_(cv) {}

ArrivalProcess ArrivalProcess::from(const bricks::manifest::Arrival& a, double rate) {
  if (a.process() == "gamma") {
    double cv = 1.0;
    if (a.cv() > 0) cv = a.cv();
    if (a.burstiness() > 0) cv = 1.0 / std::sqrt(a.burstiness());
    return ArrivalProcess(rate, cv);
  }
  return ArrivalProcess(rate, 1.0);
}

double ArrivalProcess::next_gap(Rng& rng) const {
  if (rate_ <= 0) return 0.0;
  const double mean = 1.0 / rate_;
  if (cv_ == 1.0) return exponential(rng, mean);
  // Shape k = 1 / cv^2 and scale mean / k keep the mean at 1 / rate.
  const double k = 1.0 / (cv_ * cv_);
  return gamma_unit(rng, k) * mean / k;
}

Lognormal Lognormal::from_mean_sigma(double mean, double sigma) {
  return {std::log(mean) - 0.5 * sigma * sigma, sigma};
}

Lognormal Lognormal::from_median_p90(double median, double p90) {
  return {std::log(median), (std::log(p90) - std::log(median)) / kZ90};
}

double Lognormal::median() const { return std::exp(mu); }
double Lognormal::mean() const { return std::exp(mu + 0.5 * sigma * sigma); }

EmpiricalDist EmpiricalDist::from_quantiles(const std::vector<std::pair<double, double>>& pts,
                                            const std::string& where) {
  if (pts.size() < 2) throw WorkloadError(where + ": needs at least two quantile points");
  if (pts.front().first != 0.0 || pts.back().first != 1.0) {
    throw WorkloadError(where +
                        ": quantiles must start at 0 and end at 1 (give the minimum "
                        "and the maximum)");
  }
  EmpiricalDist d;
  for (size_t i = 1; i < pts.size(); ++i) {
    const auto& [q0, v0] = pts[i - 1];
    const auto& [q1, v1] = pts[i];
    if (!(q1 > q0) || v1 < v0) {
      throw WorkloadError(where + ": quantile point " + std::to_string(i) +
                          " does not rise (quantiles must increase and values must not fall)");
    }
    d.pieces_.push_back({q0, q1, v0, v1});
  }
  return d;
}

EmpiricalDist EmpiricalDist::from_histogram(const std::vector<Bin>& bins,
                                            const std::string& where) {
  double total = 0;
  for (size_t i = 0; i < bins.size(); ++i) {
    if (!(bins[i].hi > bins[i].lo) || !(bins[i].weight >= 0)) {
      throw WorkloadError(where + ": bin " + std::to_string(i) +
                          " needs hi > lo and a weight >= 0");
    }
    total += bins[i].weight;
  }
  if (!(total > 0)) throw WorkloadError(where + ": the histogram has no weight");
  EmpiricalDist d;
  double q = 0;
  for (const Bin& b : bins) {
    if (b.weight == 0) continue;
    const double q1 = q + b.weight / total;
    d.pieces_.push_back({q, q1, b.lo, b.hi});
    q = q1;
  }
  d.pieces_.back().q1 = 1.0;
  return d;
}

EmpiricalDist EmpiricalDist::load(const std::filesystem::path& file, const std::string& key) {
  std::ifstream in(file);
  if (!in) throw WorkloadError(file.string() + ": cannot open the length distribution file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw WorkloadError(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  const std::string where = file.string() + ": \"" + key + "\"";
  if (!j.is_object() || !j.contains(key) || !j[key].is_object()) {
    throw WorkloadError(where + " is missing; the file needs an object \"" + key +
                        "\" with \"quantiles\" or \"histogram\"");
  }
  const nlohmann::json& k = j[key];
  try {
    if (k.contains("quantiles")) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& p : k.at("quantiles")) pts.emplace_back(p.at(0), p.at(1));
      return from_quantiles(pts, where);
    }
    if (k.contains("histogram")) {
      std::vector<Bin> bins;
      for (const auto& b : k.at("histogram"))
        bins.push_back({b.at("lo"), b.at("hi"), b.at("weight")});
      return from_histogram(bins, where);
    }
  } catch (const nlohmann::json::exception& e) {
    throw WorkloadError(where + " has a malformed entry (" + e.what() +
                        "); quantiles are [q, tokens] pairs, bins {\"lo\", \"hi\", \"weight\"}");
  }
  throw WorkloadError(where + " needs \"quantiles\" or \"histogram\"");
}

double EmpiricalDist::quantile(double u) const {
  if (pieces_.empty()) return 0.0;
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), u,
                             [](double x, const Piece& p) { return x < p.q1; });
  if (it == pieces_.end()) return pieces_.back().v1;
  return it->v0 + (it->v1 - it->v0) * (u - it->q0) / (it->q1 - it->q0);
}

LengthSampler LengthSampler::fixed(int32_t value) {
  LengthSampler s;
  s.kind_ = Kind::kFixed;
  s.lo_ = s.hi_ = value;
  return s;
}

LengthSampler LengthSampler::uniform(int32_t lo, int32_t hi) {
  LengthSampler s;
  s.kind_ = Kind::kUniform;
  s.lo_ = lo;
  s.hi_ = hi;
  return s;
}

LengthSampler LengthSampler::lognormal(Lognormal ln, int32_t lo, int32_t hi) {
  LengthSampler s;
  s.kind_ = Kind::kLognormal;
  s.ln_ = ln;
  s.lo_ = lo;
  s.hi_ = hi;
  return s;
}

LengthSampler LengthSampler::empirical(EmpiricalDist d, int32_t lo, int32_t hi) {
  LengthSampler s;
  s.kind_ = Kind::kEmpirical;
  s.emp_ = std::move(d);
  s.lo_ = lo;
  s.hi_ = hi;
  return s;
}

LengthSampler LengthSampler::from(const bricks::manifest::LengthDist& d, const std::string& key,
                                  const std::filesystem::path& base_dir, const std::string& field) {
  const int32_t lo = std::max(1, d.min());
  const int32_t hi = d.max();
  const std::string& kind = d.kind();
  if (kind == "fixed") return fixed(d.value());
  if (kind == "uniform") return uniform(lo, hi);
  if (kind == "lognormal") {
    if (d.median() > 0) return lognormal(Lognormal::from_median_p90(d.median(), d.p90()), lo, hi);
    return lognormal(Lognormal::from_mean_sigma(d.mean(), d.sigma()), lo, hi);
  }
  if (kind == "empirical") {
    std::filesystem::path file = d.file();
    if (file.is_relative()) file = base_dir / file;
    return empirical(EmpiricalDist::load(file, d.key().empty() ? key : d.key()), lo, hi);
  }
  throw WorkloadError(field + ".kind '" + kind +
                      "' is not one of fixed, uniform, lognormal, empirical");
}

int32_t LengthSampler::draw(Rng& rng) const {
  double v = 0;
  switch (kind_) {
    case Kind::kFixed:
      return lo_;
    case Kind::kUniform:
      return lo_ + static_cast<int32_t>(uniform01(rng) * static_cast<double>(hi_ - lo_ + 1));
    case Kind::kLognormal:
      v = std::exp(ln_.mu + ln_.sigma * standard_normal(rng));
      break;
    case Kind::kEmpirical:
      v = emp_.sample(rng);
      break;
  }
  const double top = hi_ > 0 ? static_cast<double>(hi_) : 1e9;
  return static_cast<int32_t>(std::clamp(std::round(v), static_cast<double>(lo_), top));
}

}  // namespace bricks::engine
