// The highest request rate at which a run still meets its targets: bracketing by
// doubling (or halving), then bisection to a relative tolerance. Used for DistServe's
// goodput (>= 90 % of requests meet the SLO) and Sarathi-Serve's capacity (the P99
// time-between-tokens stays within the SLO). Assumes `passes` is monotone: true up to
// some rate and false above it.
#pragma once

#include <functional>
#include <limits>
#include <vector>

namespace bricks::engine {

struct RateSearchOptions {
  double start_rate = 1.0;  // first rate tried (> 0)
  double rel_tol = 0.05;    // stop when (fail - pass) <= rel_tol * pass
  double min_rate = 1e-3;   // give up halving below this
  double max_rate = 1e6;    // give up doubling above this
  int max_evals = 16;       // runs at most
};

struct RateSearchResult {
  double best = 0;  // the highest rate that passed; 0 when none did
  double lowest_failed = std::numeric_limits<double>::infinity();
  bool bounded = false;                        // a failing rate was found above `best`
  bool converged = false;                      // bounded and within the tolerance
  std::vector<std::pair<double, bool>> tried;  // (rate, passed) in order
};

RateSearchResult find_max_rate(const std::function<bool(double rate)>& passes,
                               const RateSearchOptions& options);

}  // namespace bricks::engine
