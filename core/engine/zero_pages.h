// Memory for the KV pools: an anonymous private mapping, whose pages the kernel hands out
// zeroed as they are first touched. A pool therefore costs time and resident memory only for
// the blocks that are used, instead of zeroing all of it when the engine starts: on a VM,
// where each page fault is slow, zeroing a 1 GiB pool up front took 3 s. A server, which
// would otherwise pay those faults in its first requests, takes them at start (fault_in).
#pragma once

#include <cstddef>

namespace bricks::engine {

class ZeroPages {
 public:
  ZeroPages() = default;
  // `bytes` of zeros (none for 0); throws std::bad_alloc when the mapping is refused.
  explicit ZeroPages(size_t bytes);
  ~ZeroPages();
  ZeroPages(ZeroPages&& other) noexcept;
  ZeroPages& operator=(ZeroPages&& other) noexcept;
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;

  // Makes every page resident now, as a first write would (the contents stay zero).
  // Throws std::bad_alloc when the memory is not there to be had.
  void fault_in();

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bricks::engine
