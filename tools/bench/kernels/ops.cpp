// The small ops: rmsnorm, rope and sampling.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/cpu.h"
#include "harness.h"

namespace bricks::cpu::bench {
namespace {

void BM_Rmsnorm(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = 2048;
  std::vector<float> x(rows * dim, 0.3f), w(dim, 1.0f), y(rows * dim);
  for (auto _ : state) {
    rmsnorm(x.data(), w.data(), rows, dim, 1e-5f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
}

void BM_Rope(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  std::vector<float> x(tokens * 32 * 64, 0.3f);
  std::vector<int32_t> pos(tokens);
  for (int64_t t = 0; t < tokens; ++t) pos[t] = static_cast<int32_t>(t + 100);
  for (auto _ : state) {
    rope(x.data(), pos.data(), tokens, 32, 64, 10000.0f);
    benchmark::DoNotOptimize(x.data());
  }
}

// A layer's rope as the engine runs it: 32 q heads and 4 kv heads turned by angles computed
// once per batch (rope_angles), against BM_Rope's angles per call.
void BM_RopeApply(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  std::vector<float> q(tokens * 32 * 64, 0.3f), k(tokens * 4 * 64, 0.3f), table;
  std::vector<int32_t> pos(tokens);
  for (int64_t t = 0; t < tokens; ++t) pos[t] = static_cast<int32_t>(t + 100);
  rope_angles(pos.data(), tokens, 64, 10000.0f, table);
  for (auto _ : state) {
    rope_apply(q.data(), table.data(), tokens, 32, 64);
    rope_apply(k.data(), table.data(), tokens, 4, 64);
    benchmark::DoNotOptimize(q.data());
    benchmark::DoNotOptimize(k.data());
  }
}

void BM_Sample(benchmark::State& state) {
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0, 3);
  std::vector<float> logits(32000);
  for (float& v : logits) v = nd(gen);
  SamplingParams p;
  p.temperature = 0.8f;
  p.top_p = state.range(0) ? 0.95f : 1.0f;
  p.top_k = state.range(0) ? 0 : 40;
  std::vector<int32_t> history(256, 5);
  p.repetition_penalty = 1.1f;
  Rng rng(1);
  std::vector<float> work;
  for (auto _ : state) {
    work = logits;
    benchmark::DoNotOptimize(sample(work, p, history, rng));
  }
  state.SetLabel(state.range(0) ? "top_p 0.95" : "top_k 40");
}

}  // namespace

void register_ops() {
  benchmark::RegisterBenchmark("Rmsnorm", BM_Rmsnorm)->Arg(1)->Arg(128)->MinTime(kMinTime);
  benchmark::RegisterBenchmark("Rope", BM_Rope)->Arg(1)->Arg(128)->MinTime(kMinTime);
  benchmark::RegisterBenchmark("RopeApply", BM_RopeApply)->Arg(1)->Arg(128)->MinTime(kMinTime);
  benchmark::RegisterBenchmark("Sample", BM_Sample)->Arg(0)->Arg(1)->MinTime(kMinTime);
}

}  // namespace bricks::cpu::bench
