#include "report/report_capacity.h"

namespace bricks::engine {

RateSearchResult find_max_rate(const std::function<bool(double rate)>& passes,
                               const RateSearchOptions& o) {
  RateSearchResult res;
  auto eval = [&](double r) {
    const bool ok = passes(r);
    res.tried.emplace_back(r, ok);
    if (ok && r > res.best) res.best = r;
    if (!ok && r < res.lowest_failed) res.lowest_failed = r;
    return ok;
  };
  auto left = [&] { return static_cast<int>(res.tried.size()) < o.max_evals; };
  double r = o.start_rate > 0 ? o.start_rate : 1.0;
  if (!left()) return res;
  if (eval(r)) {
    while (left() && r * 2 <= o.max_rate && eval(r * 2)) r *= 2;
  } else {
    while (left() && r / 2 >= o.min_rate && !eval(r / 2)) r /= 2;
  }
  res.bounded = res.best > 0 && res.lowest_failed < std::numeric_limits<double>::infinity();
  if (!res.bounded) return res;
  while (res.lowest_failed - res.best > o.rel_tol * res.best && left()) {
    eval(0.5 * (res.best + res.lowest_failed));
  }
  res.converged = res.lowest_failed - res.best <= o.rel_tol * res.best;
  return res;
}

}  // namespace bricks::engine
