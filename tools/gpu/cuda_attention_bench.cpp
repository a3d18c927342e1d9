// cuda_paged on the GPU, one JSON line per case: the time of one layer's attention (plan
// and upload excluded: the second and later runs of a plan), and
//   decode:  K and V bytes read / time, and that as a share of the device-to-device copy
//            bandwidth measured in the same run (bytes read + bytes written / time);
//   prefill: attention FLOP/s (4 * head_dim * visible query-key pairs * heads / time).
// Shapes of Llama-2-7B (32 heads, head_dim 128, f16 KV, pages of 16).
//
//   cuda_attention_bench [--json-only]
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bricks/abi.h"

namespace {

struct HostError {
  std::string message;
};
bricks_error* error_new(bricks_code, const char* m) {
  return reinterpret_cast<bricks_error*>(new HostError{m != nullptr ? m : ""});
}
void host_log(void*, bricks_log_level level, const char* m) {
  if (level >= BRICKS_LOG_WARN) std::fprintf(stderr, "%s\n", m);
}
double host_now(void*) { return 0.0; }
void* host_alloc(void*, size_t bytes, size_t align) {
  return std::aligned_alloc(align, (bytes + align - 1) / align * align);
}
void host_free(void*, void* p) { std::free(p); }
bricks_brick_ref host_wired(void*, bricks_kind kind) { return {kind, nullptr, nullptr}; }
bricks_host_api g_api{sizeof(bricks_host_api),
                      nullptr,
                      &host_log,
                      &host_now,
                      &host_alloc,
                      &host_free,
                      &error_new,
                      &host_wired,
                      {}};

void ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "cuda_attention_bench: %s: %s\n", what, cudaGetErrorString(e));
  std::exit(1);
}
void ok(bricks_error* e, const char* what) {
  if (e == nullptr) return;
  std::fprintf(stderr, "cuda_attention_bench: %s: %s\n", what,
               reinterpret_cast<HostError*>(e)->message.c_str());
  std::exit(1);
}

struct Brick {
  const bricks_attention_vtable* vt = nullptr;
  void* instance = nullptr;
};

Brick load_cuda_paged() {
  const std::string path =
      std::string(BRICKS_PLUGIN_BUILD_DIR) + "/libbricks_attention_cuda_paged.so";
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "cuda_attention_bench: %s\n", dlerror());
    std::exit(1);
  }
  auto entry = reinterpret_cast<bricks_plugin_entry_fn>(dlsym(handle, BRICKS_ENTRY_SYMBOL));
  const bricks_brick_desc& d = entry()->bricks[0];
  std::vector<bricks_param_value> values;
  for (int32_t i = 0; i < d.num_params; ++i) {
    values.push_back({d.params[i].name, d.params[i].type, d.params[i].default_value});
  }
  Brick b{static_cast<const bricks_attention_vtable*>(d.vtable), nullptr};
  ok(b.vt->create(&g_api, values.data(), static_cast<int32_t>(values.size()), &b.instance),
     "create");
  return b;
}

constexpr int32_t kHeads = 32, kKvHeads = 32, kHeadDim = 128, kPage = 16;

// GB/s of a device-to-device copy of 1 GiB, counting the bytes read and written.
double copy_gb_per_s() {
  const size_t bytes = size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  ok(cudaMalloc(&a, bytes), "cudaMalloc");
  ok(cudaMalloc(&b, bytes), "cudaMalloc");
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  ok(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice), "warm-up copy");
  float best = 1e30f;
  for (int i = 0; i < 10; ++i) {
    cudaEventRecord(t0);
    cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(t1);
    ok(cudaEventSynchronize(t1), "copy");
    float ms = 0;
    cudaEventElapsedTime(&ms, t0, t1);
    best = std::min(best, ms);
  }
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) / (best * 1e-3) / 1e9;
}

struct Case {
  const char* name;
  std::vector<std::pair<int32_t, int32_t>> seqs;  // (kv_len, qo_len)
};

// Median seconds of one run() over `reps`, after a warm-up run that uploads the plan.
void run_case(const Brick& b, const Case& c, double copy_bw) {
  std::vector<int32_t> qo{0}, indptr{0}, indices, last;
  int64_t pages = 0, keys = 0, pairs = 0;
  for (auto [kv, q] : c.seqs) {
    const int32_t n = (kv + kPage - 1) / kPage;
    for (int32_t p = 0; p < n; ++p) indices.push_back(static_cast<int32_t>(pages + p));
    pages += n;
    indptr.push_back(static_cast<int32_t>(pages));
    last.push_back(kv - (n - 1) * kPage);
    qo.push_back(qo.back() + q);
    keys += kv;
    for (int32_t r = 0; r < q; ++r) pairs += kv - q + r + 1;
  }
  std::shuffle(indices.begin(), indices.end(), std::mt19937(1));
  const int64_t rows = qo.back();
  bricks_attention_batch batch{};
  batch.struct_size = sizeof(batch);
  batch.qo_indptr = qo.data();
  batch.kv = {indptr.data(), indices.data(), last.data(), static_cast<int32_t>(c.seqs.size()),
              kPage};
  batch.num_qo_heads = kHeads;
  batch.num_kv_heads = kKvHeads;
  batch.head_dim = kHeadDim;
  batch.kv_dtype = BRICKS_DTYPE_F16;
  batch.sm_scale = 0.08838834764f;
  batch.causal = 1;
  const size_t pool = static_cast<size_t>(pages) * kPage * kKvHeads * kHeadDim * 2;
  const size_t q_bytes = static_cast<size_t>(rows) * kHeads * kHeadDim * 4;
  void *k = nullptr, *v = nullptr, *q = nullptr, *out = nullptr;
  ok(cudaMalloc(&k, pool), "cudaMalloc K");
  ok(cudaMalloc(&v, pool), "cudaMalloc V");
  ok(cudaMalloc(&q, q_bytes), "cudaMalloc q");
  ok(cudaMalloc(&out, q_bytes), "cudaMalloc out");
  cudaMemset(k, 0x31, pool);  // small finite halves
  cudaMemset(v, 0x31, pool);
  cudaMemset(q, 0, q_bytes);
  cudaStream_t s;
  cudaStreamCreate(&s);
  bricks_attention_io io{};
  io.struct_size = sizeof(io);
  io.q = static_cast<const float*>(q);
  io.k_pool = k;
  io.v_pool = v;
  io.out = static_cast<float*>(out);
  io.stream = s;
  ok(b.vt->plan(b.instance, &batch), "plan");
  ok(b.vt->run(b.instance, &io), "run");
  ok(cudaStreamSynchronize(s), "warm-up");
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  std::vector<float> ms;
  for (int i = 0; i < 20; ++i) {
    cudaEventRecord(t0, s);
    ok(b.vt->run(b.instance, &io), "run");
    cudaEventRecord(t1, s);
    ok(cudaEventSynchronize(t1), "run");
    float m = 0;
    cudaEventElapsedTime(&m, t0, t1);
    ms.push_back(m);
  }
  std::sort(ms.begin(), ms.end());
  const double sec = ms[ms.size() / 2] * 1e-3;
  const double kv_bytes = static_cast<double>(keys) * 2 * kKvHeads * kHeadDim * 2;
  const double flops = 4.0 * kHeadDim * static_cast<double>(pairs) * kHeads;
  std::printf(
      "{\"case\": \"%s\", \"seqs\": %zu, \"rows\": %lld, \"keys\": %lld, \"ms\": %.4f, "
      "\"kv_GB_per_s\": %.1f, \"share_of_copy_bw\": %.3f, \"TFLOP_per_s\": %.2f}\n",
      c.name, c.seqs.size(), static_cast<long long>(rows), static_cast<long long>(keys), sec * 1e3,
      kv_bytes / sec / 1e9, kv_bytes / sec / 1e9 / copy_bw, flops / sec / 1e12);
  std::fflush(stdout);
  cudaFree(k);
  cudaFree(v);
  cudaFree(q);
  cudaFree(out);
  cudaStreamDestroy(s);
}

}  // namespace

int main() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "cuda_attention_bench: no CUDA device on this machine\n");
    return 2;
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  const double bw = copy_gb_per_s();
  std::printf("{\"gpu\": \"%s\", \"copy_GB_per_s\": %.1f}\n", p.name, bw);
  const Brick b = load_cuda_paged();
  std::vector<Case> cases;
  for (int32_t batch : {1, 16, 64}) {
    for (int32_t kv : {1024, 4096}) {
      cases.push_back(
          {nullptr, std::vector<std::pair<int32_t, int32_t>>(static_cast<size_t>(batch), {kv, 1})});
    }
  }
  std::vector<std::string> names;
  for (const Case& c : cases) {
    names.push_back("decode b" + std::to_string(c.seqs.size()) + " kv" +
                    std::to_string(c.seqs[0].first));
  }
  for (size_t i = 0; i < cases.size(); ++i) cases[i].name = names[i].c_str();
  cases.push_back({"prefill 1x2048", {{2048, 2048}}});
  cases.push_back({"prefill 8x1024", std::vector<std::pair<int32_t, int32_t>>(8, {1024, 1024})});
  cases.push_back({"prefill 4x4096", std::vector<std::pair<int32_t, int32_t>>(4, {4096, 4096})});
  for (const Case& c : cases) run_case(b, c, bw);
  return 0;
}
