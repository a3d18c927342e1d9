// Mélange's GPU allocation as an integer linear program, solved with GLPK.
//
// Given GPU types g (price per hour), buckets b (rate, requests per second) and capacities
// cap[b][g] (the highest rate of bucket b one GPU of type g sustains under the SLO; 0 when
// it cannot serve b at all), choose integer GPU counts n_g >= 0 and shares x[b][g] in [0, 1]:
//
//   minimise   sum_g price_g * n_g
//   subject to sum_g x[b][g] = 1                                  for every bucket b
//              sum_b x[b][g] * rate_b / cap[b][g] <= max_load * n_g  for every type g
//              x[b][g] = 0 where cap[b][g] = 0
//
// A GPU's load is the sum of the fractions of its capacity that its slices use, so one GPU
// can serve slices of several buckets (Mélange's bin packing with fractional items).
//
// Functions here are thread-compatible: each call builds its own GLPK problem.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bricks::plan {

struct PlanProblem {
  std::vector<std::string> gpu_names;  // for messages
  std::vector<double> prices;          // per GPU-hour, one per type
  std::vector<std::string> bucket_names;
  std::vector<double> rates;             // requests per second, one per bucket
  std::vector<std::vector<double>> cap;  // [bucket][type], requests per second, >= 0
  // The share of each GPU's profiled capacity the plan may use, in (0, 1]. A capacity is
  // the edge of a stable queue, so a GPU loaded to 1.0 of it runs at that edge; below 1
  // leaves headroom (Mélange's formulation is 1.0).
  double max_load = 1.0;
};

struct PlanSolution {
  std::vector<int32_t> counts;              // GPUs per type
  std::vector<std::vector<double>> shares;  // [bucket][type], each row sums to 1
  std::vector<double> load;                 // per type: sum_b x rate / cap, <= max_load * counts
  double cost_per_hour = 0;
};

// The cheapest allocation. Throws PlanError when the problem is malformed (sizes differ, a
// negative number), when a bucket has no type that can serve it (naming the bucket), or
// when GLPK finds no integer solution. Buckets with rate 0 take no capacity.
PlanSolution solve_plan(const PlanProblem& p);

// The cost of serving every bucket with type `g` alone: ceil(sum_b rate_b / cap[b][g] /
// max_load) GPUs; `gpus` gets that count. A negative cost when `g` cannot serve some bucket.
double single_type_cost(const PlanProblem& p, size_t g, int32_t* gpus = nullptr);

}  // namespace bricks::plan
