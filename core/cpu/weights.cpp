#include "cpu/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "bricks/error.hpp"

namespace bricks::cpu {

const char* to_string(WeightType t) { return model::dtype_name(t); }

const char* to_string(Compute c) { return c == Compute::F32 ? "f32" : "bf16"; }

size_t row_bytes(WeightType t, int64_t cols) {
  const model::BlockShape b = model::dtype_block(t);
  return static_cast<size_t>(cols / b.values) * b.bytes;
}

void check_view(const WeightView& w, const std::string& where) {
  if (w.data == nullptr) throw Error::invalid(where + ": weight data is null");
  if (w.rows <= 0 || w.cols <= 0) {
    throw Error::invalid(where + ": weight shape " + std::to_string(w.rows) + "x" +
                         std::to_string(w.cols) + " must have positive rows and cols");
  }
  if (!model::row_fits(w.type, w.cols)) {
    const std::string name = to_string(w.type);
    throw Error::invalid(where + ": " + name + " weight has " + std::to_string(w.cols) +
                         " columns; " + name + " rows must be a multiple of " +
                         std::to_string(model::dtype_block(w.type).values) +
                         " values (re-quantise the model or store this tensor as f16)");
  }
}

void prefault(const void* p, size_t n) {
  if (p == nullptr || n == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
#ifdef MADV_POPULATE_READ
  // Linux 5.14 and later fault the whole range in one call.
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return;
#endif
  // Older kernels: one read per page.
  unsigned char sum = 0;
  for (uintptr_t a = std::max(begin, reinterpret_cast<uintptr_t>(p)); a < end; a += page) {
    sum ^= *reinterpret_cast<const volatile unsigned char*>(a);
  }
  static_cast<void>(sum);
}

namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
constexpr uintptr_t kCopyStep = uintptr_t{64} << 20;

// Whether madvise(MADV_HUGEPAGE) can give this process huge pages ("always" or "madvise").
bool huge_pages_on_request() {
  static const bool on = [] {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string mode;
    std::getline(f, mode);
    return mode.find("[always]") != std::string::npos ||
           mode.find("[madvise]") != std::string::npos;
  }();
  return on;
}

// n bytes (a multiple of the page size) of anonymous read-write memory at a 2 MiB-aligned
// address, advised to huge pages where they come on request; nullptr when mmap fails.
void* map_huge_aligned(size_t n) {
  const size_t span = n + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (base + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > base) ::munmap(raw, aligned - base);
  if (aligned + n < base + span) {
    ::munmap(reinterpret_cast<void*>(aligned + n), base + span - (aligned + n));
  }
  auto* p = reinterpret_cast<void*>(aligned);
  if (huge_pages_on_request()) (void)::madvise(p, n, MADV_HUGEPAGE);
  return p;
}

// Replaces [at, at + n) (2 MiB aligned) by anonymous huge pages with the same bytes.
bool move_to_huge_pages(uintptr_t at, size_t n) {
  // Huge pages need aligned virtual addresses on both sides of the move.
  void* scratch = map_huge_aligned(n);
  if (scratch == nullptr) return false;
  std::memcpy(scratch, reinterpret_cast<const void*>(at), n);
  (void)::mprotect(scratch, n, PROT_READ);
  // The move unmaps the file pages that were at `at` and puts the scratch pages there.
  void* moved = ::mremap(scratch, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, reinterpret_cast<void*>(at));
  if (moved == MAP_FAILED) {
    ::munmap(scratch, n);
    return false;
  }
  return true;
}

}  // namespace

size_t prefault_huge(const void* p, size_t n) {
  if (p == nullptr || n == 0) return 0;
  const auto begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (begin + kHugePage - 1) / kHugePage * kHugePage;
  const uintptr_t last = (begin + n) / kHugePage * kHugePage;
  std::atomic<size_t> moved{0};
  if (huge_pages_on_request() && first < last) {
    // Steps on every thread: most of a step's time is the kernel zeroing (on a VM, the
    // hypervisor backing) each new huge page, and those faults run side by side.
    const auto steps = static_cast<int64_t>((last - first + kCopyStep - 1) / kCopyStep);
    tbb::parallel_for(int64_t{0}, steps, [&](int64_t s) {
      const uintptr_t at = first + static_cast<uintptr_t>(s) * kCopyStep;
      const size_t step = std::min<uintptr_t>(kCopyStep, last - at);
      if (move_to_huge_pages(at, step)) moved += step;
    });
  }
  // The edges, and whatever could not move, as file pages.
  prefault(p, n);
  return moved.load();
}

void release_pages(const void* p, size_t n) {
  if (p == nullptr || n == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
#ifdef MADV_PAGEOUT
  if (first < last) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_PAGEOUT);
#endif
}

WeightArena::WeightArena(size_t bytes) {
  if (bytes == 0) return;
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  mapped_ = (bytes + page - 1) / page * page;
  data_ = static_cast<char*>(map_huge_aligned(mapped_));
  if (data_ == nullptr) {
    throw Error::exhausted("cannot map " + std::to_string(bytes) +
                           " bytes for weights rewritten at load: " + std::strerror(errno));
  }
  size_ = bytes;
}

WeightArena::~WeightArena() {
  if (data_ != nullptr) ::munmap(data_, mapped_);
}

void WeightArena::seal() {
  if (data_ != nullptr) (void)::mprotect(data_, mapped_, PROT_READ);
}

}  // namespace bricks::cpu
