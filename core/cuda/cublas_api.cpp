#include "cuda/cublas_api.h"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace bricks::cuda {
namespace {

// An opened library and the path or name it was opened by, for the errors.
struct Library {
  void* handle;
  std::string file;
};

// The toolkit's library as the build found it; else its file name, for the loader's own search
// (LD_LIBRARY_PATH, the cache) where the toolkit has moved since.
Library open_cublas() {
  const std::string path = BRICKS_CUBLAS_LIBRARY;
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h != nullptr) return {h, path};
  const std::string first = ::dlerror();
  const std::string name = path.substr(path.find_last_of('/') + 1);
  h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h != nullptr) return {h, name};
  throw std::runtime_error("cuda device: cannot open cuBLAS (" + first +
                           "); install the CUDA Toolkit's libcublas or put its directory on "
                           "LD_LIBRARY_PATH");
}

template <typename F>
F symbol(const Library& lib, const char* name) {
  void* f = ::dlsym(lib.handle, name);
  if (f == nullptr) {
    throw std::runtime_error("cuda device: cuBLAS (" + lib.file + ") has no " + name +
                             "; it is older than the toolkit Bricks was built with");
  }
  return reinterpret_cast<F>(f);
}

CublasApi load() {
  const Library lib = open_cublas();
  CublasApi api{};
  api.create = symbol<decltype(api.create)>(lib, "cublasCreate_v2");
  api.destroy = symbol<decltype(api.destroy)>(lib, "cublasDestroy_v2");
  api.set_stream = symbol<decltype(api.set_stream)>(lib, "cublasSetStream_v2");
  api.gemm_ex = symbol<decltype(api.gemm_ex)>(lib, "cublasGemmEx");
  api.status_string = symbol<decltype(api.status_string)>(lib, "cublasGetStatusString");
  return api;
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();
  return api;
}

}  // namespace bricks::cuda
