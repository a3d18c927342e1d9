// Prefill GEMM against the FMA peak, and the GEMV kernels against oneDNN at the same m (the
// crossover that places gemm_min_m).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "harness.h"
#include "weights.h"

namespace bricks::cpu::bench {
namespace {

// Prefill: m rows through the default path (oneDNN above the crossover). Args: rows, cols,
// m, threads, weight type, compute.
void BM_Gemm(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1), m = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto type = static_cast<WeightType>(state.range(4));
  const auto compute = static_cast<Compute>(state.range(5));
  set_threads(threads);
  WeightSet& ws = weight_set(type, rows, cols, WeightLayout::Gguf, false);
  const Linear lin(WeightView{type, rows, cols, ws.copies[0]->data()}, compute);
  std::vector<float> x(m * cols, 0.25f), y(m * rows);
  lin.forward(x.data(), m, y.data());  // first call creates the oneDNN primitive
  const Span span;
  for (auto _ : state) {
    lin.forward(x.data(), m, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const Rates gflops =
      report(state, span, threads, "GFLOP/s", 2.0 * m * rows * cols * state.iterations() / 1e9);
  report_share(state, "pct_peak", gflops, g_peak_gflops, threads);
  state.SetLabel(std::string(to_string(type)) + " compute " + to_string(compute) + ", " +
                 to_string(lin.path_for(m)));
}

// GEMV kernels against oneDNN at the same m, to place gemm_min_m. Args: m, use oneDNN,
// weight type (5632 x 2048, the FFN up projection), compute.
void BM_Crossover(benchmark::State& state) {
  const int64_t rows = 5632, cols = 2048, m = state.range(0);
  const bool gemm = state.range(1) != 0;
  const auto type = static_cast<WeightType>(state.range(2));
  const auto compute = static_cast<Compute>(state.range(3));
  set_threads(2);
  WeightSet& ws = weight_set(type, rows, cols, WeightLayout::Gguf, false);
  const Linear lin(WeightView{type, rows, cols, ws.copies[0]->data()}, compute,
                   LinearOptions{gemm ? 1 : -1});
  std::vector<float> x(m * cols, 0.25f), y(m * rows);
  lin.forward(x.data(), m, y.data());
  const Span span;
  for (auto _ : state) {
    lin.forward(x.data(), m, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  report(state, span, 2, "GFLOP/s", 2.0 * m * rows * cols * state.iterations() / 1e9);
  state.SetLabel(std::string(to_string(type)) + " compute " + to_string(compute) + ", " +
                 to_string(lin.path_for(m)));
}

}  // namespace

void register_gemm() {
  auto* gemm = benchmark::RegisterBenchmark("Gemm", BM_Gemm);
  gemm->ArgNames({"rows", "cols", "m", "thr", "type", "compute"})->MinTime(kMinTime)->UseRealTime();
  for (int64_t m : {128, 512}) {
    for (int64_t compute : {kComputeF32, kComputeBF16}) {
      gemm->Args({5632, 2048, m, 2, kF32, compute});
      gemm->Args({5632, 2048, m, 2, kF16, compute});
      gemm->Args({5632, 2048, m, 2, kBF16, compute});
    }
  }
  gemm->Args({2048, 5632, 512, 2, kF16, kComputeF32});
  gemm->Args({5632, 2048, 128, 1, kF32, kComputeF32});
  gemm->Args({5632, 2048, 128, 1, kF16, kComputeF32});

  auto* cross = benchmark::RegisterBenchmark("Crossover", BM_Crossover);
  cross->ArgNames({"m", "onednn", "type", "compute"})->MinTime(kMinTime)->UseRealTime();
  for (int64_t type : {kF32, kF16, kBF16, kQ8, kQ4K})
    for (int64_t m : {8, 12, 16, 24, 32, 64, 128, 192, 256, 512, 1024})
      for (int64_t g : {0, 1}) cross->Args({m, g, type, kComputeF32});
  // bf16 compute: oneDNN's bf16 matmul (on converted panels for f16), or the GEMV: bf16 dot
  // products (vdpbf16ps) for bf16 weights from 2 rows where the CPU has AVX512_BF16, else the
  // f32 kernels on bf16-rounded activations.
  for (int64_t type : {kF16, kBF16})
    for (int64_t m : {1, 4, 8, 16, 32, 64, 128, 256})
      for (int64_t g : {0, 1}) cross->Args({m, g, type, kComputeBF16});
}

}  // namespace bricks::cpu::bench
