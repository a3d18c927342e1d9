#include "cuda_staging.h"

#include <cuda_runtime_api.h>

#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

// Device memory for one call, freed on every path out.
class Staged {
 public:
  ~Staged() {
    for (void* p : owned_) cudaFree(p);
  }
  // A device copy of `bytes` at `src` (nullptr for a null src), or throws the CUDA error.
  void* copy_in(const void* src, size_t bytes) {
    if (src == nullptr) return nullptr;
    void* p = nullptr;
    ok(cudaMalloc(&p, bytes == 0 ? 1 : bytes));
    owned_.push_back(p);
    if (bytes > 0) ok(cudaMemcpy(p, src, bytes, cudaMemcpyHostToDevice));
    return p;
  }
  static void ok(cudaError_t e) {
    if (e != cudaSuccess) throw std::runtime_error(cudaGetErrorString(e));
  }

 private:
  std::vector<void*> owned_;
};

}  // namespace

std::string cuda_unavailable() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(e);
  if (count == 0) return "no CUDA device on this machine";
  return "";
}

std::string run_on_cuda(const bricks_attention_vtable* vt, void* instance,
                        const bricks_attention_io& io, const IoSizes& sizes) {
  try {
    Staged s;
    bricks_attention_io d = io;
    d.struct_size = sizeof(d);
    d.stream = nullptr;
    d.q = static_cast<const float*>(s.copy_in(io.q, sizes.q * sizeof(float)));
    d.k_pool = s.copy_in(io.k_pool, sizes.pool_bytes);
    d.v_pool = s.copy_in(io.v_pool, sizes.pool_bytes);
    d.out = static_cast<float*>(s.copy_in(io.out, sizes.out * sizeof(float)));
    d.score_rows = static_cast<const uint8_t*>(s.copy_in(io.score_rows, sizes.score_rows));
    d.scores = static_cast<float*>(s.copy_in(io.scores, sizes.scores * sizeof(float)));
    std::string error = take_error(vt->run(instance, &d));
    if (!error.empty()) return error;
    Staged::ok(cudaDeviceSynchronize());
    if (io.out != nullptr) {
      Staged::ok(cudaMemcpy(io.out, d.out, sizes.out * sizeof(float), cudaMemcpyDeviceToHost));
    }
    if (io.scores != nullptr) {
      Staged::ok(
          cudaMemcpy(io.scores, d.scores, sizes.scores * sizeof(float), cudaMemcpyDeviceToHost));
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("CUDA: ") + e.what();
  }
}

}  // namespace bricks::testing
