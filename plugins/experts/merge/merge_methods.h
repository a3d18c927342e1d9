// The merge methods as plain functions over one tensor's float arrays. Each reads
// `numel` floats from every input (and base) and writes `numel` floats to `out`, which may
// not alias an input. Callers have checked the preconditions each function states.
#pragma once

#include <cstdint>
#include <string>

namespace bricks_merge {

struct MergeInputs {
  const float* base;           // NULL for methods that do not need it
  const float* const* inputs;  // [num_inputs] each [numel]
  const double* weights;       // [num_inputs]
  int32_t num_inputs;
  int64_t numel;
};

// sum_i w_i x_i / sum_i w_i. Needs sum_i w_i != 0.
void merge_linear(const MergeInputs& in, float* out);

// base + lambda * sum_i w_i (x_i - base). Needs base.
void merge_task_arithmetic(const MergeInputs& in, double lambda, float* out);

// TIES: each task vector x_i - base keeps its round(density * numel) entries of largest
// magnitude (ties to the lower index); per element the sign of sum_i w_i trimmed_i is
// elected, and the weighted mean of the trimmed entries with that sign (zeros excluded) is
// the merged delta; out = base + lambda * delta. Needs base, density in (0, 1].
void merge_ties(const MergeInputs& in, double density, double lambda, float* out);

// DARE: each task-vector entry is kept with probability `density` (a counter-based RNG on
// `stream`, input index and element index, so the result does not depend on threads or
// platform) and rescaled by 1 / density; out = base + lambda * sum_i w_i kept_i.
// Needs base, density in (0, 1].
void merge_dare(const MergeInputs& in, double density, double lambda, uint64_t stream, float* out);

// Spherical interpolation from a (t = 0) to b (t = 1) along the great circle through the
// two tensors seen as vectors; (1 - t) a + t b when they are nearly colinear or one is 0.
void merge_slerp(const float* a, const float* b, int64_t numel, double t, float* out);

// The DARE stream of one tensor: a hash of its name mixed with the seed.
uint64_t dare_stream(const std::string& tensor_name, int64_t seed);

}  // namespace bricks_merge
