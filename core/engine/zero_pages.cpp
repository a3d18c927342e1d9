#include "engine/zero_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <new>
#include <utility>

namespace bricks::engine {

ZeroPages::ZeroPages(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // Huge pages where the kernel allows them on request: a 512th of the page faults. Advice
  // only; without it the pool works the same.
  (void)::madvise(p, bytes, MADV_HUGEPAGE);
  data_ = static_cast<std::byte*>(p);
}

void ZeroPages::fault_in() {
  if (data_ == nullptr) return;
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data_, size_, MADV_POPULATE_WRITE) == 0) return;
  if (errno == ENOMEM || errno == EFAULT) throw std::bad_alloc();
#endif
  // Kernels before 5.14: one write per page. The pages read zero already, so writing a zero
  // changes nothing but where they live; the atomic store keeps the compiler from dropping it.
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (size_t at = 0; at < size_; at += page) {
    std::atomic_ref<std::byte>(data_[at]).store(std::byte{0}, std::memory_order_relaxed);
  }
}

ZeroPages::~ZeroPages() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

ZeroPages::ZeroPages(ZeroPages&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ZeroPages& ZeroPages::operator=(ZeroPages&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

}  // namespace bricks::engine
