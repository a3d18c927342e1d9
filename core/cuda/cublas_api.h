// The cuBLAS functions the cuda device calls, from a libcublas opened when the first device is
// made rather than linked into every program: the static initialisers of libcublas and
// libcublasLt took about 0.35 s of each start of a `bricks` built with the CUDA Toolkit, on a
// machine with a GPU or without one.
#pragma once

#include <cublas_v2.h>

namespace bricks::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetStream_v2) set_stream;
  // The C function: the header also declares a C++ overload (cudaDataType for the compute type).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*,
                            cudaDataType, int, const void*, void*, cudaDataType, int,
                            cublasComputeType_t, cublasGemmAlgo_t);
  decltype(&cublasGetStatusString) status_string;
};

// The functions, loaded on the first call. Throws std::runtime_error naming the library and
// the loader's reason when it cannot be opened or lacks one of them.
const CublasApi& cublas();

}  // namespace bricks::cuda
