// One forward pass of a dense Llama model on the GPU over a mixed batch of prefill chunks
// and decode tokens, every kernel on one stream: the same math as engine::LlamaForward,
// with attention through the attention brick over the pools in GPU memory.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "cuda/cuda_weights.h"
#include "cuda/device_memory.h"
#include "engine/brick_calls.h"
#include "engine/forward_batch.h"

namespace bricks::cuda {

class CudaForward {
 public:
  // Weights and the attention brick must outlive this object.
  CudaForward(const CudaWeights& weights, const engine::AttentionCalls& attention,
              cudaStream_t stream);
  ~CudaForward();
  CudaForward(const CudaForward&) = delete;
  CudaForward& operator=(const CudaForward&) = delete;

  // The KV pools in GPU memory, one K and one V per layer, f16 or f32.
  void set_pools(std::vector<void*> k, std::vector<void*> v, bool f16);

  // Runs the batch (the attention brick is planned for it); before_layer(l) is called
  // before layer l's K and V are written (to order the step's KV copies before it).
  // Writes logits[logit_rows.size()][vocab] and returns when they are on the host.
  void run(const engine::ForwardBatch& batch, const std::function<void(int32_t)>& before_layer,
           std::vector<float>& logits);

 private:
  // y[m][n] = x16[m][k] W[n][k]^T + beta y.
  void gemm(const uint16_t* w, int64_t n, int64_t k, const void* x16, int64_t m, float* y,
            float beta);
  void reserve(int64_t tokens, int64_t rows);

  const CudaWeights& w_;
  const engine::AttentionCalls& attention_;
  cudaStream_t stream_;
  cublasHandle_t blas_ = nullptr;
  std::vector<void*> k_pools_, v_pools_;
  bool kv_f16_ = true;
  // Step inputs: ids, positions, slots, logit rows, staged in pinned memory.
  PinnedBytes staging_;
  DeviceArray<int32_t> inputs_;
  // Activations, grown to the largest step.
  DeviceArray<float> x_, qkv_, q_, attn_, gu_, rows_, logits_;
  DeviceArray<uint16_t> h16_;
  PinnedBytes logits_host_;
};

}  // namespace bricks::cuda
