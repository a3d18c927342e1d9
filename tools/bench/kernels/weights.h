// Random weight matrices for the GEMV and GEMM benchmarks: copies rotated through more
// memory than any cache, in the GGUF or the lane layout.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "cpu/cpu.h"

namespace bricks::cpu::bench {

// Distinct copies of one random matrix, totalling at least rotation_bytes(), on huge pages
// where the kernel grants them (WeightArena), as the engine's resident weights and the read
// sweep are. Keep the total well above the last-level cache. (With 140 MiB of copies batch-1
// q8_0 once read 67-79 GB/s against 43-46 with the default GiB; a later session measured 43.7
// against 41.7, and a plain read sweep as fast over 192 MiB as over 1 GiB.)
struct WeightSet {
  WeightType type;
  int64_t rows, cols;
  WeightLayout layout;
  std::vector<std::unique_ptr<WeightArena>> copies;
};

// A copy of the matrix at `p` in the lane layout (cpu/weight_lanes.h), as the engine repacks
// it at load.
std::unique_ptr<WeightArena> lanes_copy(WeightType type, const void* p, int64_t rows, int64_t cols);

// One row of `type` from random values; where model::from_f32 cannot encode the type, random
// block bytes with every f16 scale and min set to 0.01 (the kernels' speed does not depend
// on the values).
void random_row(WeightType type, std::span<const float> values, unsigned char* dst,
                std::mt19937& gen);

// Whether the lane layout runs here for `type`, `cols` and `compute`; else skips `state`
// with the reason.
bool lanes_run_here(benchmark::State& state, WeightType type, int64_t cols, Compute compute);

// A `rows` x `cols` random matrix of `type` in `layout`: where `rotate`, enough copies to
// total rotation_bytes() (BRICKS_BENCH_WEIGHT_MIB, 1 GiB by default), else one. The set is
// kept for the next call with the same matrix (a rotated set serves an unrotated call too); a
// call for another matrix frees it first, so the reference lives until then.
WeightSet& weight_set(WeightType type, int64_t rows, int64_t cols, WeightLayout layout,
                      bool rotate);

}  // namespace bricks::cpu::bench
