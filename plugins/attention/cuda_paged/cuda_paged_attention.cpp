// attention/cuda_paged: paged attention on an NVIDIA GPU.
//
// plan() partitions the batch on the host (launch_plan.h); the step's first run() uploads
// the partition and the page table's indices on the stream it is given, and every run()
// enqueues the kernels (kernels.cu) for its layer on that stream and returns. Buffers grow
// and are kept across steps.
//
// Thread safety: one host thread at a time (abi.h rule).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "kernels.h"
#include "launch_plan.h"

namespace bricks_cuda_paged {
namespace {

using bricks::Error;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw Error::internal(std::string("attention cuda_paged: ") + what + ": " +
                          cudaGetErrorString(e));
  }
}

// Device memory that grows to the largest size asked and is kept.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  void* reserve(size_t bytes) {
    if (bytes <= size_) return ptr_;
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = nullptr;
    size_ = 0;
    check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
    size_ = bytes;
    return ptr_;
  }
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

template <class T>
void upload(DeviceBuffer& dst, const T* src, size_t count, cudaStream_t stream) {
  if (count == 0) return;
  void* p = dst.reserve(count * sizeof(T));
  check(cudaMemcpyAsync(p, src, count * sizeof(T), cudaMemcpyHostToDevice, stream),
        "copying the plan to the GPU");
}

int32_t multiprocessors() {
  int device = 0;
  check(cudaGetDevice(&device), "no CUDA device");
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "reading the GPU's multiprocessor count");
  return sms;
}

class CudaPagedAttention final : public bricks::Attention {
 public:
  CudaPagedAttention(const bricks::Host& host, const bricks::Params& params)
      : Attention(host), kv_chunk_size_(static_cast<int32_t>(params.get_int("kv_chunk_size"))) {}

  void plan(const bricks_attention_batch& batch) override {
    planned_ = false;
    if (num_sms_ == 0) num_sms_ = multiprocessors();
    plan_ = build_launch_plan(batch, num_sms_, kv_chunk_size_);
    batch_ = batch;
    indices_.assign(batch.kv.indices, batch.kv.indices + plan_.num_indices);
    uploaded_ = false;
    planned_ = true;
  }

  void run(const bricks_attention_io& io) override {
    if (!planned_)
      throw Error::invalid("attention cuda_paged: run called without a successful plan");
    if (plan_.items.empty()) return;
    if (io.q == nullptr || io.out == nullptr || io.k_pool == nullptr || io.v_pool == nullptr) {
      throw Error::invalid("attention cuda_paged: q, k_pool, v_pool and out must all be set");
    }
    if (io.scores != nullptr || io.score_rows != nullptr) {
      throw Error::unsupported(
          "attention cuda_paged: attention scores for pruners are not computed on the GPU");
    }
    cudaStream_t stream = nullptr;
    if (io.struct_size >= offsetof(bricks_attention_io, stream) + sizeof(void*)) {
      stream = static_cast<cudaStream_t>(io.stream);
    }
    if (!uploaded_) {
      upload(seqs_, plan_.seqs.data(), plan_.seqs.size(), stream);
      upload(items_, plan_.items.data(), plan_.items.size(), stream);
      upload(merges_, plan_.merges.data(), plan_.merges.size(), stream);
      upload(indices_d_, indices_.data(), indices_.size(), stream);
      const size_t partials = static_cast<size_t>(plan_.partial_vectors);
      partial_o_.reserve(partials * static_cast<size_t>(batch_.head_dim) * sizeof(float) + 1);
      partial_lse_.reserve(partials * sizeof(float) + 1);
      uploaded_ = true;
    }
    KernelArgs a{};
    a.seqs = static_cast<const SeqInfo*>(seqs_.get());
    a.items = static_cast<const Item*>(items_.get());
    a.merges = static_cast<const Merge*>(merges_.get());
    a.indices = static_cast<const int32_t*>(indices_d_.get());
    a.q = io.q;
    a.k_pool = io.k_pool;
    a.v_pool = io.v_pool;
    a.out = io.out;
    a.partial_o = static_cast<float*>(partial_o_.get());
    a.partial_lse = static_cast<float*>(partial_lse_.get());
    a.num_qo_heads = batch_.num_qo_heads;
    a.num_kv_heads = batch_.num_kv_heads;
    a.group = plan_.group;
    a.head_dim = batch_.head_dim;
    a.page_size = batch_.kv.page_size;
    a.causal = batch_.causal;
    a.f16 = batch_.kv_dtype == BRICKS_DTYPE_F16 ? 1 : 0;
    a.sm_scale = batch_.sm_scale;
    check(launch_attention(a, static_cast<int32_t>(plan_.items.size()),
                           static_cast<int32_t>(plan_.merges.size()), stream),
          "launching the attention kernels");
  }

 private:
  const int32_t kv_chunk_size_;
  int32_t num_sms_ = 0;
  bricks_attention_batch batch_{};
  LaunchPlan plan_;
  std::vector<int32_t> indices_;
  bool planned_ = false;
  bool uploaded_ = false;
  DeviceBuffer seqs_, items_, merges_, indices_d_, partial_o_, partial_lse_;
};

const bricks_param_spec kParams[] = {
    bricks::param_int("kv_chunk_size", 0, 0, 1 << 30,
                      "Keys per thread block when splitting a sequence's KV (split-KV); 0 "
                      "splits only when the batch has fewer than two tiles per "
                      "multiprocessor, into pieces of at least 256 keys."),
};
const char* const kProvides[] = {BRICKS_CAP_DEVICE_CUDA, BRICKS_CAP_KV_F32, BRICKS_CAP_KV_F16};

}  // namespace
}  // namespace bricks_cuda_paged

BRICKS_PLUGIN("bricks_attention_cuda_paged", "1.0.0", "Apache-2.0",
              bricks::describe<bricks_cuda_paged::CudaPagedAttention>(
                  "cuda_paged", "1.0.0",
                  "Paged attention on NVIDIA GPUs: mixed decode/prefill batches, GQA, "
                  "split-KV with a log-sum-exp merge.")
                  .params(bricks_cuda_paged::kParams)
                  .provides(bricks_cuda_paged::kProvides))
