// What every kernel benchmark shares: timing by wall and busy seconds, the counters it sets,
// the bandwidths and FMA peak measured earlier in the run, and the argument codes.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <map>

#include "cpu/cpu.h"

namespace bricks::cpu::bench {

using Clock = std::chrono::steady_clock;

double process_cpu_seconds();

// Times a benchmark loop two ways: wall time, and "busy" time (the process's CPU time over
// the thread count). On a machine shared with other work the busy rate is close to what the
// kernel does with its cores to itself; on an idle machine the two agree (busy is a little
// lower when threads spin while waiting).
struct Span {
  Clock::time_point wall0 = Clock::now();
  double cpu0 = process_cpu_seconds();
  double wall() const { return std::chrono::duration<double>(Clock::now() - wall0).count(); }
  double busy(int threads) const { return (process_cpu_seconds() - cpu0) / threads; }
};

// Sets `name` (per wall second) and `name`_busy (per busy second) for `amount` units.
struct Rates {
  double wall, busy;
};
Rates report(benchmark::State& state, const Span& span, int threads, const char* name,
             double amount);

// Measured in this run, by thread count (1 or 2); later benchmarks divide by them.
extern std::map<int, Rates> g_triad_gbs, g_read_gbs, g_peak_gflops;

// Sets `name` and `name`_busy to `got` as a percentage of `base` at `threads`; nothing where
// `base` has no entry for `threads` (its benchmark did not run earlier in this process).
void report_share(benchmark::State& state, const char* name, Rates got,
                  const std::map<int, Rates>& base, int threads);

void set_threads(int n);

// The minimum time of most benchmarks, in seconds.
inline constexpr double kMinTime = 0.1;

// Weight types and compute modes as benchmark arguments.
inline constexpr int64_t kF16 = static_cast<int64_t>(WeightType::F16);
inline constexpr int64_t kF32 = static_cast<int64_t>(WeightType::F32);
inline constexpr int64_t kBF16 = static_cast<int64_t>(WeightType::BF16);
inline constexpr int64_t kQ8 = static_cast<int64_t>(WeightType::Q8_0);
inline constexpr int64_t kQ4 = static_cast<int64_t>(WeightType::Q4_0);
inline constexpr int64_t kQ4K = static_cast<int64_t>(WeightType::Q4_K);
inline constexpr int64_t kQ5K = static_cast<int64_t>(WeightType::Q5_K);
inline constexpr int64_t kQ6K = static_cast<int64_t>(WeightType::Q6_K);
inline constexpr int64_t kComputeF32 = static_cast<int64_t>(Compute::F32);
inline constexpr int64_t kComputeBF16 = static_cast<int64_t>(Compute::BF16);

}  // namespace bricks::cpu::bench
