// Internal to bricks_cpu: software prefetch of weight bytes ahead of their use, shared by the
// kernel families. _mm_prefetch is SSE, in every x86-64 baseline, so this carries no target
// attribute and inlines into the AVX2 and AVX-512 kernels alike.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bricks::cpu::detail {

// Asks for every cache line of [p, p + n) into L1; never faults, even past the weights' end.
inline void prefetch_lines(const char* p, int64_t n) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto last = reinterpret_cast<uintptr_t>(p + n - 1);
  for (uintptr_t line = first; line <= last; line += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
  }
}

// Asks for the lines of one of a run of consecutive spans of N bytes (the steps of a row): one
// request per 64 bytes from p. A span's last bytes that spill into a further line share it with
// the next span's first bytes, whose request covers them. A fixed run of requests with constant
// offsets from one address, it unrolls with its caller's loop and needs no register of its own.
template <int64_t N>
inline void prefetch_span(const char* p) {
  static_assert(N > 0);
  for (int64_t offset = 0; offset < N; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
}

}  // namespace bricks::cpu::detail
