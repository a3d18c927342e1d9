// A dense Llama model's weights in GPU memory: every matrix as 16-bit (bf16 or f16) rows,
// q/k/v fused into one [q + 2 kv][hidden] matrix and gate/up into one [2 ffn][hidden], so
// a layer's attention inputs take one product and its FFN inputs another; norms as f32.
// Matrices of any type the model reader accepts (f32, f16, bf16, the GGUF block types) are
// dequantised on the host at upload.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "bricks/model/model.h"
#include "cuda/device_memory.h"

namespace bricks::cuda {

struct CudaLayer {
  DeviceArray<uint16_t> qkv, o, gate_up, down;
  DeviceArray<float> attn_norm, ffn_norm;
};

struct CudaWeights {
  model::LlamaConfig config;
  bool bf16 = true;
  DeviceArray<uint16_t> embed;   // [vocab][hidden]
  DeviceArray<uint16_t> output;  // [vocab][hidden]; empty when tied to embed
  DeviceArray<float> output_norm;
  std::vector<CudaLayer> layers;
  int64_t bytes = 0;  // GPU memory the weights take

  const uint16_t* lm_head() const { return output.size() > 0 ? output.get() : embed.get(); }

  // Throws model::ModelError for a model the cuda device cannot run (mixture of experts)
  // and std::runtime_error for a CUDA failure (out of memory names the tensor). `progress`
  // gets the share of layers uploaded.
  static CudaWeights upload(const model::Model& m, bool bf16,
                            const std::function<void(double)>& progress = {});
};

}  // namespace bricks::cuda
