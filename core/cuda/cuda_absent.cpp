// The cuda device in a build without the CUDA Toolkit: it says so.
#include "cuda/cuda_device.h"

namespace bricks::cuda {

void require_cuda_device(int32_t) {
  throw CudaUnavailable(
      "this build of bricks has no CUDA device: nvcc was not found when it was configured "
      "(install the CUDA Toolkit at /usr/local/cuda and rebuild, or use device.kind \"cpu\")");
}

std::unique_ptr<engine::Device> make_cuda_device(const CudaDeviceOptions& o, CudaDeviceInfo*) {
  require_cuda_device(o.ordinal);
  return nullptr;
}

bool cuda_built() { return false; }

}  // namespace bricks::cuda
