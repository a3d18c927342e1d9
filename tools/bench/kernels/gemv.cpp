// Decode GEMV against the read bandwidth: batch 1 and small batches, every weight type and
// layout, from DRAM (Gemv) and from cache (GemvCached); and the load's rewrite to the lane
// layout (PackLanes).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/quant_dot.h"
#include "cpu/weight_lanes.h"
#include "harness.h"
#include "weights.h"

namespace bricks::cpu::bench {
namespace {

// Decode and batched decode: m rows through the GEMV kernels, a different weight copy each
// call so every byte comes from DRAM (`rotate`), or one copy that stays in cache: the
// kernel's compute ceiling, which says whether DRAM or the instructions bound the first.
// Args: rows, cols, m, threads, weight type, compute, layout (1: the lane layout).
void gemv_bench(benchmark::State& state, bool rotate) {
  const int64_t rows = state.range(0), cols = state.range(1), m = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto type = static_cast<WeightType>(state.range(4));
  const auto compute = static_cast<Compute>(state.range(5));
  const WeightLayout layout = state.range(6) == 1 ? WeightLayout::Lanes : WeightLayout::Gguf;
  if (layout == WeightLayout::Lanes && !lanes_run_here(state, type, cols, compute)) return;
  set_threads(threads);
  WeightSet& ws = weight_set(type, rows, cols, layout, rotate);
  std::vector<Linear> lins;
  for (size_t c = 0; c < (rotate ? ws.copies.size() : 1); ++c) {
    lins.emplace_back(WeightView{type, rows, cols, ws.copies[c]->data(), layout}, compute,
                      LinearOptions{-1});
  }
  std::vector<float> x(m * cols, 0.5f), y(m * rows);
  size_t next = 0;
  const Span span;
  for (auto _ : state) {
    lins[next].forward(x.data(), m, y.data());
    next = next + 1 == lins.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
  }
  const double iters = static_cast<double>(state.iterations());
  const Rates gbs = report(state, span, threads, "GB/s",
                           static_cast<double>(lins[0].weight_bytes()) * iters / 1e9);
  state.counters["GFLOP/s"] = 2.0 * m * rows * cols * iters / span.wall() / 1e9;
  report_share(state, "pct_triad", gbs, g_triad_gbs, threads);
  report_share(state, "pct_read", gbs, g_read_gbs, threads);
  const std::string kernel =
      model::dtype_is_quantized(type)
          ? std::string("int8 ") + detail::to_string(detail::quant_isa_for(lins[0].isa()))
          : std::string(to_string(lins[0].isa()));
  state.SetLabel(std::string(to_string(type)) + (layout == WeightLayout::Lanes ? " lanes " : " ") +
                 kernel + " compute " + to_string(compute) + ", " + std::to_string(lins.size()) +
                 " copies");
}
void BM_Gemv(benchmark::State& state) { gemv_bench(state, true); }
void BM_GemvCached(benchmark::State& state) { gemv_bench(state, false); }

// The load's rewrite of one matrix to the lane layout (pack_lanes, on the calling thread):
// GB/s of the file's bytes. Args: rows, cols, weight type.
void BM_PackLanes(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const auto type = static_cast<WeightType>(state.range(2));
  WeightSet& ws = weight_set(type, rows, cols, WeightLayout::Gguf, false);
  WeightArena out(row_bytes(type, cols) * rows);
  const Span span;
  for (auto _ : state) {
    pack_lanes(WeightView{type, rows, cols, ws.copies[0]->data()}, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  const double bytes = static_cast<double>(row_bytes(type, cols) * rows);
  report(state, span, 1, "GB/s", bytes * static_cast<double>(state.iterations()) / 1e9);
  state.SetLabel(to_string(type));
}

}  // namespace

void register_gemv() {
  // TinyLlama-1.1B projections: q/o, k/v, gate/up, down, output.
  const int64_t shapes[][2] = {
      {2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
  auto* gemv = benchmark::RegisterBenchmark("Gemv", BM_Gemv);
  gemv->ArgNames({"rows", "cols", "m", "thr", "type", "compute", "lanes"})
      ->MinTime(kMinTime)
      ->UseRealTime();
  for (const auto& s : shapes)
    for (int t : {1, 2}) gemv->Args({s[0], s[1], 1, t, kF16, kComputeF32, 0});
  for (int64_t type : {kF32, kBF16}) gemv->Args({5632, 2048, 1, 2, type, kComputeF32, 0});
  for (int64_t m : {4, 8, 16}) gemv->Args({5632, 2048, m, 2, kF16, kComputeF32, 0});
  // bf16 compute: bf16 dot products (vdpbf16ps) from 2 rows on f16 and bf16 weights where the
  // CPU has AVX512_BF16, else the f32 kernels on rounded activations.
  for (int64_t type : {kF16, kBF16})
    for (int64_t m : {1, 4, 8, 16}) gemv->Args({5632, 2048, m, 2, type, kComputeBF16, 0});
  // The block types' integer kernels next to f16, for decode and 16 sequences of it.
  gemv->Args({2048, 2048, 16, 2, kF16, kComputeF32, 0});
  for (const auto& s : {shapes[0], shapes[2]})
    for (int64_t m : {1, 16})
      for (int64_t type : {kQ8, kQ4, kQ4K, kQ5K, kQ6K})
        gemv->Args({s[0], s[1], m, 2, type, kComputeF32, 0});
  // q8_0 and the k-quants in the lane layout (cpu/weight_lanes.h).
  for (const auto& s : {shapes[0], shapes[2], shapes[3]})
    for (int64_t m : {1, 4, 8, 16})
      for (int64_t type : {kQ8, kQ4K, kQ5K, kQ6K})
        gemv->Args({s[0], s[1], m, 2, type, kComputeF32, 1});
  // q4_K lanes at one row on the output matrix's shape: 36 MB a call, against the per-call
  // costs (thread start, finishing apart) of the 5632-row matrices.
  gemv->Args({32000, 2048, 1, 2, kQ4K, kComputeF32, 1});
  // q4_K at one row on one thread, against ReadSweep/1: whether two threads lose to each other.
  for (const auto& s : {shapes[0], shapes[2], shapes[3]})
    gemv->Args({s[0], s[1], 1, 1, kQ4K, kComputeF32, 1});
  // Their small-batch decode, and one thread of it.
  for (int64_t type : {kQ8, kQ4, kQ4K, kQ5K, kQ6K}) {
    gemv->Args({5632, 2048, 4, 2, type, kComputeF32, 0});
    gemv->Args({5632, 2048, 8, 2, type, kComputeF32, 0});
    gemv->Args({5632, 2048, 1, 1, type, kComputeF32, 0});
  }
  // Batch-1 decode of one thread on weights that stay in L2 (256 x 2048: 288 KiB of q4_K,
  // 544 KiB of q8_0): the GB/s a core's instructions allow, against Gemv's from DRAM. f16's
  // 1 MiB fills a whole 1 MiB L2, so part of it comes from L3: its row is a lower bound.
  auto* cached = benchmark::RegisterBenchmark("GemvCached", BM_GemvCached);
  cached->ArgNames({"rows", "cols", "m", "thr", "type", "compute", "lanes"})
      ->MinTime(kMinTime)
      ->UseRealTime();
  for (int64_t type : {kF16, kQ8, kQ4, kQ4K, kQ5K, kQ6K})
    cached->Args({256, 2048, 1, 1, type, kComputeF32, 0});
  // The lane layout, and both layouts' few-row and many-row kernels.
  for (int64_t type : {kQ8, kQ4K, kQ5K, kQ6K}) {
    cached->Args({256, 2048, 1, 1, type, kComputeF32, 1});
    for (int64_t m : {4, 16})
      for (int64_t lanes : {0, 1}) cached->Args({256, 2048, m, 1, type, kComputeF32, lanes});
  }
  // The many-row kernels from cache: on plain AVX2, q4_K, q5_K and q8_0 on transposed panels
  // from 8 rows, q6_K on the row kernels or its lane tiles.
  for (int64_t type : {kQ4K, kQ8, kQ5K, kQ6K})
    for (int64_t lanes : {0, 1}) cached->Args({256, 2048, 8, 1, type, kComputeF32, lanes});
  // f16 for a few rows: on AVX2, weights broadcast against transposed activations.
  for (int64_t m : {2, 4, 8, 16}) cached->Args({128, 2048, m, 1, kF16, kComputeF32, 0});
  // The load's rewrite to the lane layout, per matrix type.
  auto* pack = benchmark::RegisterBenchmark("PackLanes", BM_PackLanes);
  pack->ArgNames({"rows", "cols", "type"})->MinTime(kMinTime)->UseRealTime();
  for (int64_t type : {kQ8, kQ4K, kQ5K, kQ6K}) pack->Args({2048, 2048, type});
}

}  // namespace bricks::cpu::bench
