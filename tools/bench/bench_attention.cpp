// Attention brick benchmarks: each attention brick (reference, cpu_paged) on
//   decode16  16 sequences x 1024 keys, one query row each
//   decode1   1 sequence x 4096 keys (split-KV territory)
//   prefill   one 512-token prompt, causal
// with 32 query heads, 8 kv heads (GQA 4), head_dim 128, page size 16, f32 and f16 pools,
// at 1 and 2 threads; and
//   decode1g8 1 sequence x 2048 keys with 4 kv heads (GQA 8) and head_dim 64, a decode step
//             of the 1.1B model (`bricks make-model --preset 1b`): its 8 query vectors per kv
//             head take the AVX-512 kernel that puts query vectors in lanes;
//   decode1g8 over 256 keys, whose 128 KiB of K and V stay in L2: the kernel's compute alone;
//   decode1g8 cold: 2048 keys, each iteration over another of 48 copies of the sequence's K
//             and V (96 MiB of f16), so that its keys come from memory, as in a decode step;
//   decode1g8 over 32 keys, a decode step just after a short prompt: the step's fixed costs.
// Time per plan + run (one layer). Prints numbers; asserts nothing.
//
//   bench_attention --benchmark_filter=cpu_paged
//
// Counters: kv_GB/s (K and V bytes read once / wall time; decode is bound by it).
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <tbb/global_control.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "bench_host.h"
#include "bricks/abi.h"

namespace {

using bricks::bench::failed;

bricks_brick_ref host_wired(void*, bricks_kind kind) { return {kind, nullptr, nullptr}; }
bricks_host_api g_api = bricks::bench::host_api(&host_wired);

struct Brick {
  const bricks_attention_vtable* vt = nullptr;
  void* instance = nullptr;
};

// Attention brick `name` from lib<library>.so in the build tree, with default params.
// `simd` (when not empty) sets the brick's parameter of that name: cpu_paged's kernel limit.
Brick load_brick(const std::string& library, const std::string& simd = "") {
  const std::string path = std::string(BRICKS_PLUGIN_BUILD_DIR) + "/lib" + library + ".so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return {};
  auto entry = reinterpret_cast<bricks_plugin_entry_fn>(dlsym(handle, BRICKS_ENTRY_SYMBOL));
  if (entry == nullptr) return {};
  const bricks_brick_desc& d = entry()->bricks[0];
  std::vector<bricks_param_value> values;
  for (int32_t i = 0; i < d.num_params; ++i) {
    values.push_back({d.params[i].name, d.params[i].type, d.params[i].default_value});
    if (!simd.empty() && std::string(d.params[i].name) == "simd")
      values.back().value.s = simd.c_str();
  }
  Brick b{static_cast<const bricks_attention_vtable*>(d.vtable), nullptr};
  bricks_error* err =
      b.vt->create(&g_api, values.data(), static_cast<int32_t>(values.size()), &b.instance);
  if (err != nullptr) {
    bricks::bench::free_error(err);
    return {};
  }
  return b;
}

constexpr int32_t kQoHeads = 32, kPageSize = 16;

// Memory for the K and V pools as the engine maps its pool (ZeroPages): anonymous pages with
// huge pages requested, so that the cold workload's misses are the cache's, not the TLB's.
template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <typename U>
  explicit PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p =
        ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    (void)::madvise(p, n * sizeof(T), MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { ::munmap(p, n * sizeof(T)); }
  bool operator==(const PoolAllocator&) const { return true; }
  bool operator!=(const PoolAllocator&) const { return false; }
};
template <typename T>
using PoolVector = std::vector<T, PoolAllocator<T>>;

struct Heads {
  int32_t kv_heads = 8, head_dim = 128;
};

struct Workload {
  std::vector<int32_t> qo_indptr, indptr, indices, last_page_len;
  int32_t copies = 1;  // page tables, each over its own pages: indices holds them one after another
  std::vector<float> q, out;
  PoolVector<float> k32, v32;
  PoolVector<uint16_t> k16, v16;
  bricks_attention_batch batch{};
  int64_t kv_bytes = 0;
};

Workload make_workload(int32_t seqs, int32_t kv_len, int32_t qo_len, bool f16, Heads h = {},
                       int32_t copies = 1) {
  Workload w;
  w.copies = copies;
  w.qo_indptr.push_back(0);
  w.indptr.push_back(0);
  for (int32_t s = 0; s < seqs; ++s) {
    w.qo_indptr.push_back(w.qo_indptr.back() + qo_len);
    w.indptr.push_back(w.indptr.back() + kv_len / kPageSize);
    w.last_page_len.push_back(kPageSize);
  }
  const int32_t blocks = w.indptr.back() * copies;
  for (int32_t i = 0; i < blocks; ++i)
    w.indices.push_back(static_cast<int32_t>((int64_t{i} * 7919) % blocks));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const size_t pool = static_cast<size_t>(blocks) * kPageSize * h.kv_heads * h.head_dim;
  if (f16) {
    w.k16.resize(pool);
    w.v16.resize(pool);
    for (auto& x : w.k16) x = static_cast<uint16_t>(0x3800u | (rng() & 0x3ffu));
    for (auto& x : w.v16) x = static_cast<uint16_t>(0x3800u | (rng() & 0x3ffu));
  } else {
    w.k32.resize(pool);
    w.v32.resize(pool);
    for (auto& x : w.k32) x = u(rng);
    for (auto& x : w.v32) x = u(rng);
  }
  w.kv_bytes = static_cast<int64_t>(2 * pool / static_cast<size_t>(copies) * (f16 ? 2 : 4));
  w.q.resize(static_cast<size_t>(w.qo_indptr.back()) * kQoHeads * h.head_dim);
  for (auto& x : w.q) x = u(rng);
  w.out.resize(w.q.size());
  w.batch = bricks_attention_batch{
      sizeof(bricks_attention_batch),
      w.qo_indptr.data(),
      {w.indptr.data(), w.indices.data(), w.last_page_len.data(), seqs, kPageSize},
      kQoHeads,
      h.kv_heads,
      h.head_dim,
      f16 ? BRICKS_DTYPE_F16 : BRICKS_DTYPE_F32,
      1.0f / std::sqrt(static_cast<float>(h.head_dim)),
      1};
  return w;
}

// Arg 0: workload (0 decode16, 1 decode1, 2 prefill, 3 decode1g8, 4 decode1g8 in L2, 5 decode1g8
// cold, 6 decode1 of a model without grouped queries: 32 kv heads, its 64 MiB of f16 keys and
// values read from memory, 7 the same over 64 keys, 1 MiB, in cache, 8 decode1g8 over 32 keys:
// a short context, where a step's fixed costs show), arg 1: f16 pools, arg 2: threads.
void BM_Attention(benchmark::State& state, const std::string& library, const std::string& simd) {
  static std::map<std::string, Brick> bricks;
  const std::string key = library + "/" + simd;
  if (!bricks.count(key)) bricks[key] = load_brick(library, simd);
  const Brick& brick = bricks[key];
  if (brick.vt == nullptr) {
    state.SkipWithError(("cannot load lib" + library + ".so from the build tree").c_str());
    return;
  }
  const int64_t which = state.range(0);
  const bool f16 = state.range(1) != 0;
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(state.range(2)));
  Workload w = which == 0   ? make_workload(16, 1024, 1, f16)
               : which == 1 ? make_workload(1, 4096, 1, f16)
               : which == 2 ? make_workload(1, 512, 512, f16)
               : which == 3 ? make_workload(1, 2048, 1, f16, Heads{4, 64})
               : which == 4 ? make_workload(1, 256, 1, f16, Heads{4, 64})
               : which == 5 ? make_workload(1, 2048, 1, f16, Heads{4, 64}, 48)
               : which == 6 ? make_workload(1, 4096, 1, f16, Heads{32, 128})
               : which == 7 ? make_workload(1, 64, 1, f16, Heads{32, 128})
                            : make_workload(1, 32, 1, f16, Heads{4, 64});
  bricks_attention_io io{sizeof(bricks_attention_io),
                         w.q.data(),
                         f16 ? static_cast<const void*>(w.k16.data()) : w.k32.data(),
                         f16 ? static_cast<const void*>(w.v16.data()) : w.v32.data(),
                         w.out.data(),
                         nullptr,
                         nullptr};
  const int32_t tables = w.indptr.back();
  int32_t copy = 0;
  for (auto _ : state) {
    w.batch.kv.indices = w.indices.data() + int64_t{copy} * tables;
    copy = (copy + 1) % w.copies;
    if (failed(state, brick.vt->plan(brick.instance, &w.batch))) return;
    if (failed(state, brick.vt->run(brick.instance, &io))) return;
    benchmark::DoNotOptimize(w.out.data());
  }
  const char* labels[] = {"decode16x1024",     "decode1x4096",     "prefill512",
                          "decode1x2048g8d64", "decode1x256g8d64", "decode1x2048g8d64cold",
                          "decode1x4096mha",   "decode1x64mha",    "decode1x32g8d64"};
  state.SetLabel(labels[which]);
  state.counters["kv_GB/s"] = benchmark::Counter(static_cast<double>(w.kv_bytes) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void workloads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"work", "f16", "threads"})
      ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 1}, {1, 2}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Attention, cpu_paged, std::string("bricks_attention_cpu_paged"), std::string())
    ->Apply(workloads);
// Its AVX2 kernels, which AVX-512 machines would not otherwise run.
BENCHMARK_CAPTURE(BM_Attention, cpu_paged_avx2, std::string("bricks_attention_cpu_paged"),
                  std::string("avx2"))
    ->Apply(workloads);
// The reference is the yardstick, not a contender: one iteration per point is enough.
BENCHMARK_CAPTURE(BM_Attention, reference, std::string("bricks_attention_reference"), std::string())
    ->Apply(workloads)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
