// The fit of the cost model's GEMM constants to measured per-layer times
// (linear_samples.h): a least-squares fit in log space, as `bricks fit-cost` runs it.
#pragma once

#include <span>

#include "sim/cost_model.h"
#include "sim/linear_samples.h"

namespace bricks::sim {

// The cost model's time for the sample's linear layers (one layer) on `gpu`.
double modelled_linear_seconds(const GpuSpec& gpu, const LinearSample& s, const CostConstants& k);

struct FitResult {
  CostConstants constants;
  double rms_log_error = 0;  // sqrt(mean(log(modelled / measured)^2)) at the fit
  int iterations = 0;
};

// Fits gemm_efficiency_max, gemm_half_outputs, memory_efficiency, gemm_latency_s and
// roofline_exponent to `samples` by Levenberg-Marquardt on log(modelled / measured),
// starting from `start` (which must give every fitted constant a value above 0); the tile
// constants and everything else stay as `start` has them. layer_overhead_s becomes the mean
// other_s of the samples of at most 64 tokens where the CSVs measured it. Throws SimError
// when `samples` is empty.
FitResult fit_linear_constants(const GpuSpec& gpu, std::span<const LinearSample> samples,
                               const CostConstants& start);

}  // namespace bricks::sim
