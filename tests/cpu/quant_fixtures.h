// Inputs shared by the suites of the integer kernels (test_cpu_quant_dot, test_cpu_weight_lanes):
// activation rows, the values the kernels see after quantizing them, and weight bytes that end
// right before a page that may not be read.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/quant_dot.h"
#include "weight_fixtures.h"

namespace bricks::cpu::testing {

// Activation rows of different magnitudes (1, 0.01 and 30 in turn); with more than one row,
// the second row's first block is zero.
inline std::vector<float> varied_activations(int64_t m, int64_t cols, uint32_t seed) {
  std::vector<float> x = random_floats(m * cols, seed);
  for (int64_t i = 0; i < m; ++i) {
    const float scale = i % 3 == 0 ? 1.0f : (i % 3 == 1 ? 0.01f : 30.0f);
    for (int64_t k = 0; k < cols; ++k) x[i * cols + k] *= scale;
  }
  if (m > 1) std::fill(x.begin() + cols, x.begin() + cols + 32, 0.0f);
  return x;
}

// x as the kernels see it after quantize_activations: d * q per value, from the blocks of 32
// or, with q8k, from the super-block form.
inline std::vector<float> dequantized(const detail::QuantizedActivations& qx, bool q8k = false) {
  std::vector<float> out(static_cast<size_t>(qx.m * qx.cols));
  for (int64_t i = 0; i < qx.m; ++i) {
    for (int64_t k = 0; k < qx.cols; ++k) {
      out[i * qx.cols + k] =
          q8k ? qx.d8k[(i * qx.cols + k) / 256] * qx.q8k[i * qx.cols + k]
              : qx.d[i * qx.padded / detail::kQuantLane + k / detail::kQuantLane] *
                    qx.q[i * qx.padded + k];
    }
  }
  return out;
}

// A copy of `n` bytes that ends right before a page that may not be read: a kernel that loads a
// byte past them faults, in every build.
class GuardedBytes {
 public:
  GuardedBytes(const void* bytes, size_t n) {
    const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    span_ = (n + page - 1) / page * page + page;
    map_ = ::mmap(nullptr, span_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map_ == MAP_FAILED) {
      ADD_FAILURE() << "mmap of " << span_ << " bytes failed";
      map_ = nullptr;
      return;
    }
    auto* base = static_cast<char*>(map_);
    if (::mprotect(base + span_ - page, page, PROT_NONE) != 0) ADD_FAILURE() << "mprotect failed";
    data_ = base + span_ - page - n;
    std::memcpy(data_, bytes, n);
  }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  ~GuardedBytes() {
    if (map_ != nullptr) ::munmap(map_, span_);
  }
  // Null when the mapping failed (the test has failed then).
  const char* data() const { return data_; }

 private:
  void* map_ = nullptr;
  size_t span_ = 0;
  char* data_ = nullptr;
};

}  // namespace bricks::cpu::testing
