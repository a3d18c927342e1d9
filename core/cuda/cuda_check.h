// CUDA and cuBLAS status checks that throw with what was being done.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

namespace bricks::cuda {

void check(cudaError_t e, const std::string& what);
void check(cublasStatus_t s, const std::string& what);

}  // namespace bricks::cuda
