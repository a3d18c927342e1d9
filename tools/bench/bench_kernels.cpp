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
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "bricks/model/model_error.h"
#include "bricks/model/quant_blocks.h"
#include "cpu/cpu.h"
#include "cpu/quant_dot.h"

// GCC 12 flags the undefined pass-through operands inside avx512fintrin.h once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace bricks::cpu {
namespace {

using Clock = std::chrono::steady_clock;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

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
             double amount) {
  const Rates r{amount / span.wall(), amount / span.busy(threads)};
  state.counters[name] = r.wall;
  state.counters[std::string(name) + "_busy"] = r.busy;
  return r;
}

// Measured in this run, by thread count (1 or 2); later benchmarks divide by them.
std::map<int, Rates> g_triad_gbs, g_read_gbs, g_peak_gflops;

void report_share(benchmark::State& state, const char* name, Rates got,
                  const std::map<int, Rates>& base, int threads) {
  const auto it = base.find(threads);
  if (it == base.end()) return;
  state.counters[name] = 100 * got.wall / it->second.wall;
  state.counters[std::string(name) + "_busy"] = 100 * got.busy / it->second.busy;
}

void set_threads(int n) { set_num_threads(n); }

// ---- memory bandwidth -------------------------------------------------------------------

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

// Sums of [b, b + n) in vector registers, four independent sums and a prefetch 4 KiB
// ahead, as the decode kernels read (n a multiple of 64). Plain code would be bound by its
// adds before the memory on a wide core.
__attribute__((target("avx2"))) float read_avx2(const float* b, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  for (int64_t i = 0; i < n; i += 32) {
    __builtin_prefetch(b + i + 1024);
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(b + i + 8 * j));
  }
  float out[8];
  _mm256_storeu_ps(out,
                   _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  return out[0];
}

__attribute__((target("avx512f"))) float read_avx512(const float* b, int64_t n) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int64_t i = 0; i < n; i += 64) {
    __builtin_prefetch(b + i + 1024);
    for (int j = 0; j < 4; ++j) acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(b + i + 16 * j));
  }
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

// ---- FMA peak ---------------------------------------------------------------------------

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

// ---- weights rotated through more memory than any cache ---------------------------------

int64_t rotation_bytes() {
  const char* v = std::getenv("BRICKS_BENCH_WEIGHT_MIB");
  const int64_t mib = v != nullptr ? std::atoll(v) : 1024;
  return (mib > 0 ? mib : 1024) << 20;
}

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
std::unique_ptr<WeightArena> lanes_copy(WeightType type, const void* p, int64_t rows,
                                        int64_t cols) {
  auto packed = std::make_unique<WeightArena>(row_bytes(type, cols) * rows);
  pack_lanes(WeightView{type, rows, cols, p}, packed->data());
  return packed;
}

std::unique_ptr<WeightSet> g_weights;

// One row of `type` from random values; where model::from_f32 cannot encode the type, random
// block bytes with every f16 scale and min set to 0.01 (the kernels' speed does not depend
// on the values).
void random_row(WeightType type, std::span<const float> values, unsigned char* dst,
                std::mt19937& gen) {
  const size_t bytes = row_bytes(type, static_cast<int64_t>(values.size()));
  try {
    model::from_f32(type, values, std::as_writable_bytes(std::span(dst, bytes)));
    return;
  } catch (const model::ModelError&) {
  }
  for (size_t j = 0; j < bytes; ++j) dst[j] = static_cast<unsigned char>(gen());
  const model::BlockShape shape = model::dtype_block(type);
  size_t fields[2] = {0, 0};  // offsets of the block's f16 scale and min
  switch (type) {
    case WeightType::Q4_1:
    case WeightType::Q5_1:
    case WeightType::Q4_K:
    case WeightType::Q5_K:
      fields[1] = 2;
      break;
    case WeightType::Q6_K:
      fields[0] = fields[1] = offsetof(model::BlockQ6_K, d);
      break;
    default:
      break;
  }
  const uint16_t h = f32_to_f16_bits(0.01f);
  for (size_t b = 0; b < bytes / shape.bytes; ++b) {
    for (size_t f : fields) std::memcpy(dst + b * shape.bytes + f, &h, 2);
  }
}

// Whether the lane layout runs here for `type`, `cols` and `compute`; else skips `state`
// with the reason.
bool lanes_run_here(benchmark::State& state, WeightType type, int64_t cols, Compute compute) {
  if (lanes_layout_fits(type, cols, compute)) return true;
  state.SkipWithError("the lane layout does not run here (q8_0, q4_K, f32 compute, AVX512_VNNI)");
  return false;
}

WeightSet& weight_set(WeightType type, int64_t rows, int64_t cols, WeightLayout layout,
                      bool rotate) {
  if (g_weights && g_weights->type == type && g_weights->rows == rows && g_weights->cols == cols &&
      g_weights->layout == layout && (!rotate || g_weights->copies.size() > 1)) {
    return *g_weights;
  }
  g_weights.reset();
  auto set = std::make_unique<WeightSet>();
  set->type = type;
  set->rows = rows;
  set->cols = cols;
  set->layout = layout;
  const size_t bytes = row_bytes(type, cols) * rows;
  const size_t count = rotate ? std::max<size_t>(2, (rotation_bytes() + bytes - 1) / bytes) : 1;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> val(-1, 1);
  std::vector<float> row(cols);
  for (size_t i = 0; i < count; ++i) {
    set->copies.push_back(std::make_unique<WeightArena>(bytes));
    auto* p = reinterpret_cast<unsigned char*>(set->copies.back()->data());
    if (i > 0) {
      std::memcpy(p, set->copies[0]->data(), bytes);
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      unsigned char* dst = p + row_bytes(type, cols) * r;
      for (float& f : row) f = val(gen);
      random_row(type, row, dst, gen);
    }
    if (layout == WeightLayout::Lanes) set->copies[0] = lanes_copy(type, p, rows, cols);
  }
  g_weights = std::move(set);
  return *g_weights;
}

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

// ---- a decode token's projections --------------------------------------------------------

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

// ---- small ops --------------------------------------------------------------------------

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

constexpr int64_t kF16 = static_cast<int64_t>(WeightType::F16);
constexpr int64_t kF32 = static_cast<int64_t>(WeightType::F32);
constexpr int64_t kBF16 = static_cast<int64_t>(WeightType::BF16);
constexpr int64_t kQ8 = static_cast<int64_t>(WeightType::Q8_0);
constexpr int64_t kQ4 = static_cast<int64_t>(WeightType::Q4_0);
constexpr int64_t kQ4K = static_cast<int64_t>(WeightType::Q4_K);
constexpr int64_t kQ5K = static_cast<int64_t>(WeightType::Q5_K);
constexpr int64_t kQ6K = static_cast<int64_t>(WeightType::Q6_K);
constexpr int64_t kComputeF32 = static_cast<int64_t>(Compute::F32);
constexpr int64_t kComputeBF16 = static_cast<int64_t>(Compute::BF16);

void register_all() {
  constexpr double kMin = 0.1;
  for (int t : {1, 2}) {
    benchmark::RegisterBenchmark("Triad", BM_Triad)->Arg(t)->MinTime(kMin)->UseRealTime();
    benchmark::RegisterBenchmark("ReadSweep", BM_ReadSweep)->Arg(t)->MinTime(kMin)->UseRealTime();
    benchmark::RegisterBenchmark("FmaPeakF32", BM_FmaPeakF32)->Arg(t)->MinTime(kMin)->UseRealTime();
  }
  // TinyLlama-1.1B projections: q/o, k/v, gate/up, down, output.
  const int64_t shapes[][2] = {
      {2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
  auto* gemv = benchmark::RegisterBenchmark("Gemv", BM_Gemv);
  gemv->ArgNames({"rows", "cols", "m", "thr", "type", "compute", "lanes"})
      ->MinTime(kMin)
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
  // q8_0 and q4_K in the lane layout (cpu/weight_lanes.h).
  for (const auto& s : {shapes[0], shapes[2], shapes[3]})
    for (int64_t m : {1, 4, 16})
      for (int64_t type : {kQ8, kQ4K}) gemv->Args({s[0], s[1], m, 2, type, kComputeF32, 1});
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
      ->MinTime(kMin)
      ->UseRealTime();
  for (int64_t type : {kF16, kQ8, kQ4, kQ4K, kQ5K, kQ6K})
    cached->Args({256, 2048, 1, 1, type, kComputeF32, 0});
  // The lane layout, and both layouts' few-row and many-row kernels.
  for (int64_t type : {kQ8, kQ4K}) {
    cached->Args({256, 2048, 1, 1, type, kComputeF32, 1});
    for (int64_t m : {4, 16})
      for (int64_t lanes : {0, 1}) cached->Args({256, 2048, m, 1, type, kComputeF32, lanes});
  }

  auto* gemm = benchmark::RegisterBenchmark("Gemm", BM_Gemm);
  gemm->ArgNames({"rows", "cols", "m", "thr", "type", "compute"})->MinTime(kMin)->UseRealTime();
  for (int64_t m : {128, 512}) {
    for (int64_t compute : {kComputeF32, kComputeBF16}) {
      gemm->Args({5632, 2048, m, 2, kF32, compute});
      gemm->Args({5632, 2048, m, 2, kF16, compute});
      gemm->Args({5632, 2048, m, 2, kBF16, compute});
    }
  }
  gemm->Args({2048, 5632, 512, 2, kF16, kComputeF32});
  gemm->Args({5632, 2048, 128, 1, kF32, kComputeF32});

  auto* cross = benchmark::RegisterBenchmark("Crossover", BM_Crossover);
  cross->ArgNames({"m", "onednn", "type", "compute"})->MinTime(kMin)->UseRealTime();
  for (int64_t type : {kF32, kF16, kQ8, kQ4K})
    for (int64_t m : {8, 16, 32, 64, 128, 192, 256, 512})
      for (int64_t g : {0, 1}) cross->Args({m, g, type, kComputeF32});
  // bf16 compute: oneDNN's bf16 matmul (on converted panels for f16), or the GEMV: bf16 dot
  // products (vdpbf16ps) for bf16 weights from 2 rows where the CPU has AVX512_BF16, else the
  // f32 kernels on bf16-rounded activations.
  for (int64_t type : {kF16, kBF16})
    for (int64_t m : {1, 4, 8, 16, 32, 64, 128, 256})
      for (int64_t g : {0, 1}) cross->Args({m, g, type, kComputeBF16});

  benchmark::RegisterBenchmark("Rmsnorm", BM_Rmsnorm)->Arg(1)->Arg(128)->MinTime(kMin);
  auto* layers = benchmark::RegisterBenchmark("DecodeLayers", BM_DecodeLayers);
  layers->ArgNames({"thr", "type", "lanes"})->MinTime(1.0)->UseRealTime();
  for (int64_t type : {kQ8, kQ4K}) layers->Args({2, type, 0});
  for (int64_t type : {kQ8, kQ4K}) layers->Args({2, type, 1});
  layers->Args({1, kQ4K, 1});  // one thread: its share of ReadSweep/1
  benchmark::RegisterBenchmark("Rope", BM_Rope)->Arg(1)->Arg(128)->MinTime(kMin);
  benchmark::RegisterBenchmark("Sample", BM_Sample)->Arg(0)->Arg(1)->MinTime(kMin);
}

}  // namespace
}  // namespace bricks::cpu

int main(int argc, char** argv) {
  bricks::cpu::register_all();
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
