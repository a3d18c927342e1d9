// cuBLAS is opened when the first cuda device is made (core/cuda/cublas_api.h), not at start:
// a program linked with the cuda device does not map it until then, and every function the
// device calls is found in the library the build names. Neither needs a GPU.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cuda/cublas_api.h"

namespace {

std::string mapped_files() {
  std::ifstream in("/proc/self/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// First in the program: no case before it has made a device.
TEST(CublasApi, NotMappedUntilFirstUse) {
  EXPECT_EQ(mapped_files().find("libcublas"), std::string::npos);
  bricks::cuda::cublas();
  EXPECT_NE(mapped_files().find("libcublas"), std::string::npos);
}

TEST(CublasApi, EveryFunctionTheDeviceCallsIsFound) {
  const bricks::cuda::CublasApi& api = bricks::cuda::cublas();
  EXPECT_NE(api.create, nullptr);
  EXPECT_NE(api.destroy, nullptr);
  EXPECT_NE(api.set_stream, nullptr);
  EXPECT_NE(api.gemm_ex, nullptr);
  ASSERT_NE(api.status_string, nullptr);
  // The library's own texts for two statuses, which only the real function has.
  const std::string failed = api.status_string(CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_FALSE(failed.empty());
  EXPECT_NE(failed, api.status_string(CUBLAS_STATUS_SUCCESS));
}

}  // namespace
