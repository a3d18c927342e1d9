// bricks/prefetch.hpp: a request for a cache line ahead of its use, for brick kernels that
// read memory in an order the hardware cannot guess (a page table's blocks, weight rows
// spread over a call).
//
// An asm statement, not __builtin_prefetch: GCC 12 deletes a loop that holds nothing but
// __builtin_prefetch calls as dead code, at -O2 and -O3, and so dropped cpu_paged attention's
// requests for its next key block without a word. Header-only; never faults, whatever the
// address.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bricks {

// Asks for the cache line holding `p` into every cache level.
inline void prefetch_line(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// Asks for every cache line of the `bytes` bytes from `p` (bytes > 0), one prefetch_line each.
inline void prefetch_lines(const void* p, size_t bytes) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto last = reinterpret_cast<uintptr_t>(p) + bytes - 1;
  for (uintptr_t line = first; line <= last; line += 64) {
    prefetch_line(reinterpret_cast<const void*>(line));
  }
}

}  // namespace bricks
