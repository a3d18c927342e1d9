// Owned GPU memory and pinned host memory, freed on destruction.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "cuda/cuda_check.h"

namespace bricks::cuda {

// `count` elements of T in GPU memory.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t count, const std::string& what) { resize(count, what); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), count_(std::exchange(o.count_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(count_, o.count_);
    return *this;
  }
  ~DeviceArray() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  // Grows to at least `count` elements (contents are not kept).
  void reserve(size_t count, const std::string& what) {
    if (count > count_) resize(count, what);
  }
  T* get() const { return ptr_; }
  size_t size() const { return count_; }

 private:
  void resize(size_t count, const std::string& what) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = nullptr;
    count_ = 0;
    void* p = nullptr;
    check(cudaMalloc(&p, (count == 0 ? 1 : count) * sizeof(T)),
          "allocating " + std::to_string(count * sizeof(T)) + " bytes for " + what);
    ptr_ = static_cast<T*>(p);
    count_ = count;
  }
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// `bytes` of page-locked host memory, so copies to and from the GPU run asynchronously.
class PinnedBytes {
 public:
  PinnedBytes() = default;
  PinnedBytes(const PinnedBytes&) = delete;
  PinnedBytes& operator=(const PinnedBytes&) = delete;
  ~PinnedBytes() {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
  }
  void reserve(size_t bytes, const std::string& what) {
    if (bytes <= size_) return;
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    size_ = 0;
    check(cudaHostAlloc(&ptr_, bytes == 0 ? 1 : bytes, cudaHostAllocDefault),
          "pinning " + std::to_string(bytes) + " bytes of host memory for " + what);
    size_ = bytes;
  }
  std::byte* get() const { return static_cast<std::byte*>(ptr_); }
  size_t size() const { return size_; }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bricks::cuda
