// A decode token's projections: every matrix of TinyLlama-1.1B in the engine's order and
// grouping, against the read bandwidth.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/quant_dot.h"
#include "harness.h"
#include "weights.h"

namespace bricks::cpu::bench {
namespace {

// One activation row through the projections of a TinyLlama-1.1B token, in the engine's order
// and grouping (LlamaForward): per layer q, k and v in one call (Linear::forward_same_input),
// o, gate and up in one call, down; then the output matrix. 22 layers of their own weights
// (1.05 GiB at q8_0) on huge pages, so every byte comes from DRAM, as in batch-1 decode. Gemv
// measures one shape at a time; this measures the sequence, with its small matrices and the
// start and end of each parallel region. Counters: the token's weight bytes per second, the
// same per kind of call, and the token's share of ReadSweep. Args: threads, weight type,
// layout (1: the lane layout, for the matrices it holds).
constexpr int kLayerMatrices = 7;

struct DecodeMatrices {
  std::vector<std::unique_ptr<WeightArena>> arenas;
  std::vector<Linear> lins;  // per layer q, k, v, o, gate, up, down; then the output
};

DecodeMatrices decode_matrices(WeightType type, bool lanes) {
  constexpr int kLayers = 22;
  const int64_t shapes[kLayerMatrices][2] = {{2048, 2048}, {256, 2048},  {256, 2048}, {2048, 2048},
                                             {5632, 2048}, {5632, 2048}, {2048, 5632}};
  DecodeMatrices d;
  d.lins.reserve(kLayers * kLayerMatrices + 1);
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> val(-1, 1);
  auto add = [&](int64_t rows, int64_t cols) {
    // One random row repeated: the kernels' speed does not depend on the values.
    const size_t rb = row_bytes(type, cols);
    d.arenas.push_back(std::make_unique<WeightArena>(rb * rows));
    auto* p = reinterpret_cast<unsigned char*>(d.arenas.back()->data());
    std::vector<float> row(static_cast<size_t>(cols));
    for (float& f : row) f = val(gen);
    random_row(type, row, p, gen);
    for (int64_t r = 1; r < rows; ++r) std::memcpy(p + r * rb, p, rb);
    WeightView view{type, rows, cols, p};
    if (lanes && lanes_layout_fits(type, cols, Compute::F32)) {
      d.arenas.back() = lanes_copy(type, p, rows, cols);
      view.data = d.arenas.back()->data();
      view.layout = WeightLayout::Lanes;
    }
    d.lins.emplace_back(view, Compute::F32, LinearOptions{-1});
  };
  for (int l = 0; l < kLayers; ++l) {
    for (const auto& s : shapes) add(s[0], s[1]);
  }
  add(32000, 2048);
  return d;
}

void BM_DecodeLayers(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const auto type = static_cast<WeightType>(state.range(1));
  const bool lanes = state.range(2) == 1;
  if (lanes && !lanes_run_here(state, type, 2048, Compute::F32)) return;
  set_threads(threads);
  const DecodeMatrices d = decode_matrices(type, lanes);
  const std::vector<float> x(5632, 0.5f);
  std::vector<float> y[3] = {std::vector<float>(32000), std::vector<float>(2048),
                             std::vector<float>(5632)};
  enum Kind { kQkv, kO, kGateUp, kDown, kOutput, kKinds };
  const char* names[kKinds] = {"qkv_GB/s", "o_GB/s", "gate_up_GB/s", "down_GB/s", "output_GB/s"};
  // The kind of call that reads each of a layer's matrices (q, k, v, o, gate, up, down).
  const Kind layer_kinds[kLayerMatrices] = {kQkv, kQkv, kQkv, kO, kGateUp, kGateUp, kDown};
  double seconds[kKinds] = {}, bytes[kKinds] = {};
  for (size_t i = 0; i + 1 < d.lins.size(); ++i) {
    bytes[layer_kinds[i % kLayerMatrices]] += static_cast<double>(d.lins[i].weight_bytes());
  }
  bytes[kOutput] = static_cast<double>(d.lins.back().weight_bytes());
  auto timed = [&](Kind k, const auto& call) {
    const Clock::time_point t0 = Clock::now();
    call();
    seconds[k] += std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const Span span;
  for (auto _ : state) {
    for (size_t l = 0; l + 1 < d.lins.size(); l += kLayerMatrices) {
      const Linear* L = &d.lins[l];
      const Linear* qkv[] = {&L[0], &L[1], &L[2]};
      float* qkv_out[] = {y[0].data(), y[1].data(), y[2].data()};
      timed(kQkv, [&] { Linear::forward_same_input(qkv, x.data(), 1, qkv_out); });
      timed(kO, [&] { L[3].forward(x.data(), 1, y[0].data()); });
      const Linear* gate_up[] = {&L[4], &L[5]};
      float* gate_up_out[] = {y[0].data(), y[2].data()};
      timed(kGateUp, [&] { Linear::forward_same_input(gate_up, x.data(), 1, gate_up_out); });
      timed(kDown, [&] { L[6].forward(x.data(), 1, y[0].data()); });
    }
    timed(kOutput, [&] { d.lins.back().forward(x.data(), 1, y[0].data()); });
    benchmark::DoNotOptimize(y[0].data());
  }
  const double iters = static_cast<double>(state.iterations());
  double total = 0;
  for (int k = 0; k < kKinds; ++k) {
    total += bytes[k];
    state.counters[names[k]] = bytes[k] * iters / seconds[k] / 1e9;
  }
  const Rates gbs = report(state, span, threads, "GB/s", total * iters / 1e9);
  report_share(state, "pct_read", gbs, g_read_gbs, threads);
  state.SetLabel(std::string(to_string(type)) + (lanes ? " lanes" : "") + " int8 " +
                 detail::to_string(detail::quant_isa_for(d.lins[0].isa())) + ", " +
                 std::to_string(d.lins.size()) + " matrices");
}

}  // namespace

void register_decode_layers() {
  auto* layers = benchmark::RegisterBenchmark("DecodeLayers", BM_DecodeLayers);
  layers->ArgNames({"thr", "type", "lanes"})->MinTime(1.0)->UseRealTime();
  for (int64_t type : {kQ8, kQ4K, kQ6K}) layers->Args({2, type, 0});
  for (int64_t type : {kQ8, kQ4K, kQ5K, kQ6K}) layers->Args({2, type, 1});
  layers->Args({1, kQ4K, 1});  // one thread: its share of ReadSweep/1
}

}  // namespace bricks::cpu::bench
