// The cuda device: the Llama forward pass on an NVIDIA GPU. Weights are uploaded once as
// bf16 or f16 (block types are dequantised at load), the linear layers run through cuBLAS,
// the rest through the project's kernels (ops.h), attention through an attention brick that
// provides device.cuda (cuda_paged) over the KV pool in GPU memory. The host tier for
// swapped KV is pinned host memory; block copies run on a stream of their own, and each
// layer of the step waits only for its own copies (events).
//
// This header builds everywhere; without the CUDA Toolkit at configure time,
// make_cuda_device throws CudaUnavailable.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "bricks/model/model.h"
#include "engine/device.h"
#include "host/registry.h"

namespace bricks::cuda {

// No CUDA in this build, no usable GPU, or a CUDA call failed while setting up.
class CudaUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CudaDeviceOptions {
  const model::Model* model = nullptr;             // must outlive the device
  const host::BrickInstance* attention = nullptr;  // provides device.cuda; must outlive it
  int32_t ordinal = 0;                             // which GPU
  bool bf16 = true;                                // bf16 weights and GEMMs; false: f16
  bool overlap_copies = true;  // false: the step waits for all KV copies before layer 0
};

struct CudaDeviceInfo {
  std::string summary;       // "cuda, NVIDIA H200 (sm_90, 132 SMs), bf16 ..."
  int64_t weight_bytes = 0;  // GPU memory the weights took
  int64_t free_bytes = 0;    // GPU memory free after the weights and workspaces
};

// Uploads the model's weights and makes the device. Throws CudaUnavailable (no CUDA in this
// build, no GPU at `ordinal`, out of GPU memory) or model::ModelError (a tensor it cannot
// convert).
std::unique_ptr<engine::Device> make_cuda_device(const CudaDeviceOptions& options,
                                                 CudaDeviceInfo* info);

// Throws CudaUnavailable unless GPU `ordinal` can be used (checked before anything large,
// such as making a builtin model, is done for it).
void require_cuda_device(int32_t ordinal);

// True when this build has the CUDA device.
bool cuda_built();

}  // namespace bricks::cuda
