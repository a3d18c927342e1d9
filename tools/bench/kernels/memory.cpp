// The run's rooflines: memory bandwidth (STREAM triad and a read-only sweep) and the FMA
// peak, at 1 and 2 threads. Later benchmarks report their shares of these.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/cpu.h"
#include "harness.h"

// GCC 12 flags the undefined pass-through operands inside avx512fintrin.h once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bricks::cpu::bench {
namespace {

constexpr int64_t kStreamFloats = int64_t{48} << 20;  // 192 MiB per array

struct StreamArrays {
  std::vector<float> a, b, c;
  StreamArrays() : a(kStreamFloats, 1.0f), b(kStreamFloats, 2.0f), c(kStreamFloats, 0.5f) {}
};

StreamArrays& stream_arrays() {
  static StreamArrays s;
  return s;
}

void BM_Triad(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  set_threads(threads);
  StreamArrays& s = stream_arrays();
  float* a = s.a.data();
  const float* b = s.b.data();
  const float* c = s.c.data();
  const float q = 3.0f;
  const Span span;
  for (auto _ : state) {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, kStreamFloats, 1 << 16),
        [&](const tbb::blocked_range<int64_t>& r) {
          for (int64_t i = r.begin(); i < r.end(); ++i) a[i] = b[i] + q * c[i];
        },
        tbb::static_partitioner());
    benchmark::ClobberMemory();
  }
  g_triad_gbs[threads] =
      report(state, span, threads, "GB/s", 3.0 * 4 * kStreamFloats * state.iterations() / 1e9);
}

// The read roofline of decode: its weights sit on huge pages where the kernel grants them
// (cpu::prefault_huge), so the swept array does too (cpu::WeightArena), else the sweep pays
// TLB misses that the weights do not.
const float* sweep_array() {
  static const auto arena = [] {
    auto a = std::make_unique<cpu::WeightArena>(sizeof(float) * kStreamFloats);
    std::fill_n(reinterpret_cast<float*>(a->data()), kStreamFloats, 2.0f);
    return a;
  }();
  return reinterpret_cast<const float*>(arena->data());
}

// Sums of [b, b + n) in vector registers (n a multiple of 64), read as kSweepStreams parts side
// by side, each in address order with a request for every cache line 4 KiB ahead; four
// independent sums, since plain code would be bound by its adds before the memory on a wide
// core. A roofline must be the most the memory gives, and on a Zen 3 EPYC one stream per
// thread is far from it: a C loop read 31-35 GB/s on 2 threads as one stream each, 41-50 as
// two and 46-56 as four (one thread: 21, 25 and 28). A request for every line, not every other:
// one per 128 bytes read 11.6 GB/s on one thread and 21 on two as one stream.
constexpr int64_t kSweepStreams = 4;

__attribute__((target("avx2"))) float read_avx2(const float* b, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  auto step = [&](const float* p) __attribute__((target("avx2"))) {
    __builtin_prefetch(p + 1024);
    __builtin_prefetch(p + 1024 + 16);
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(p + 8 * j));
  };
  const int64_t part = n / kSweepStreams / 32 * 32;
  for (int64_t i = 0; i < part; i += 32)
    for (int64_t s = 0; s < kSweepStreams; ++s) step(b + s * part + i);
  for (int64_t i = kSweepStreams * part; i < n; i += 32) step(b + i);
  float out[8];
  _mm256_storeu_ps(out,
                   _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  return out[0];
}

__attribute__((target("avx512f"))) float read_avx512(const float* b, int64_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  auto step = [&](const float* p) __attribute__((target("avx512f"))) {
    for (int j = 0; j < 4; ++j) __builtin_prefetch(p + 1024 + 16 * j);
    for (int j = 0; j < 4; ++j) acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(p + 16 * j));
  };
  const int64_t part = n / kSweepStreams / 64 * 64;
  for (int64_t i = 0; i < part; i += 64)
    for (int64_t s = 0; s < kSweepStreams; ++s) step(b + s * part + i);
  for (int64_t i = kSweepStreams * part; i < n; i += 64) step(b + i);
  return _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

void BM_ReadSweep(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  set_threads(threads);
  const float* b = sweep_array();
  const bool wide = best_isa() == Isa::Avx512;
  const Span span;
  for (auto _ : state) {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, kStreamFloats, 1 << 16),
        [&](const tbb::blocked_range<int64_t>& r) {
          const float* at = b + r.begin();
          const int64_t n = r.size() / 64 * 64;
          benchmark::DoNotOptimize(wide ? read_avx512(at, n) : read_avx2(at, n));
        },
        tbb::static_partitioner());
  }
  g_read_gbs[threads] =
      report(state, span, threads, "GB/s", 4.0 * kStreamFloats * state.iterations() / 1e9);
}

// 12 independent FMA chains per thread: enough to cover latency x ports on current cores.
__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iters) {
  __m256 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  float out[8];
  __m256 s = acc[0];
  for (int j = 1; j < 12; ++j) s = _mm256_add_ps(s, acc[j]);
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f,fma"))) double fma_loop_avx512(int64_t iters) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  __m512 s = acc[0];
  for (int j = 1; j < 12; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}

void BM_FmaPeakF32(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  set_threads(threads);
  const bool wide = best_isa() == Isa::Avx512;
  const int lanes = wide ? 16 : 8;
  const int64_t iters = 1 << 22;
  const Span span;
  for (auto _ : state) {
    tbb::parallel_for(
        0, threads,
        [&](int) {
          benchmark::DoNotOptimize(wide ? fma_loop_avx512(iters) : fma_loop_avx2(iters));
        },
        tbb::static_partitioner());
  }
  const double flops = 2.0 * lanes * 12 * iters * threads * state.iterations();
  g_peak_gflops[threads] = report(state, span, threads, "GFLOP/s", flops / 1e9);
  state.SetLabel(wide ? "avx512 fma" : "avx2 fma");
}

}  // namespace

void register_memory() {
  for (int t : {1, 2}) {
    benchmark::RegisterBenchmark("Triad", BM_Triad)->Arg(t)->MinTime(kMinTime)->UseRealTime();
    benchmark::RegisterBenchmark("ReadSweep", BM_ReadSweep)
        ->Arg(t)
        ->MinTime(kMinTime)
        ->UseRealTime();
    benchmark::RegisterBenchmark("FmaPeakF32", BM_FmaPeakF32)
        ->Arg(t)
        ->MinTime(kMinTime)
        ->UseRealTime();
  }
}

}  // namespace bricks::cpu::bench
