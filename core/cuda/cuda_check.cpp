#include "cuda/cuda_check.h"

#include <stdexcept>

#include "cuda/cublas_api.h"

namespace bricks::cuda {

void check(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return;
  throw std::runtime_error("cuda device: " + what + ": " + cudaGetErrorString(e));
}

void check(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw std::runtime_error("cuda device: " + what + ": " + cublas().status_string(s));
}

}  // namespace bricks::cuda
