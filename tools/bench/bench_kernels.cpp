// CPU kernel benchmarks: memory bandwidth (STREAM triad and a read-only sweep), FMA peak,
// decode GEMV against that bandwidth, batched GEMV, prefill GEMM against the FMA peak, the
// GEMV/oneDNN crossover, and the small ops. Prints numbers; asserts nothing.
//
//   bench_kernels                      # whole run, under two minutes on 2 cores
//   bench_kernels --benchmark_filter=Gemv    # Gemv and GemvCached
//   BRICKS_BENCH_WEIGHT_MIB=2048 bench_kernels   # rotate through more weight copies
//
// Counters: GB/s (bytes the kernel must move / wall time), pct_triad / pct_read (GB/s as a
// share of the triad or read bandwidth measured earlier in this run at the same thread
// count), GFLOP/s and pct_peak (share of the FMA peak measured in this run).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "cpu/cpu.h"
#include "kernels/register.h"

int main(int argc, char** argv) {
  // Memory first: later benchmarks divide by its bandwidths and FMA peak.
  bricks::cpu::bench::register_memory();
  bricks::cpu::bench::register_gemv();
  bricks::cpu::bench::register_decode_layers();
  bricks::cpu::bench::register_gemm();
  bricks::cpu::bench::register_ops();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto& f = bricks::cpu::cpu_features();
  std::printf(
      "cpu: avx2 %d avx_vnni %d avx512f %d avx512_vnni %d avx512bf16 %d amx_bf16 %d, kernels %s, "
      "threads %d\n",
      f.avx2, f.avx_vnni, f.avx512f, f.avx512vnni, f.avx512bf16, f.amx_bf16,
      bricks::cpu::to_string(bricks::cpu::best_isa()), bricks::cpu::num_threads());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
