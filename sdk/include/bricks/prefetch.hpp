// bricks/prefetch.hpp: a request for a cache line ahead of its use, for brick kernels that
// read memory in an order the hardware cannot guess (a page table's blocks, weight rows
// spread over a call).
//
// An asm statement, not __builtin_prefetch: GCC 12 deletes a loop that holds nothing but
// __builtin_prefetch calls as dead code, at -O2 and -O3, and so dropped cpu_paged attention's
// requests for its next key block without a word. Header-only; never faults, whatever the
// address.
#pragma once

namespace bricks {

// Asks for the cache line holding `p` into every cache level.
inline void prefetch_line(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace bricks
