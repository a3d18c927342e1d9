// Internal to bricks_cpu: software prefetch of weight bytes ahead of their use, shared by the
// kernel families. _mm_prefetch is SSE, in every x86-64 baseline, so this carries no target
// attribute and inlines into the AVX2 and AVX-512 kernels alike.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bricks::cpu::detail {

// Asks for every cache line of [p, p + n) into L1; never faults, even past the weights' end.
// GCC 12 deletes a loop of nothing but these requests as dead code: such a loop takes
// bricks::prefetch_lines (asm requests) instead, as gemm_tiles' next-panel requests do. Not the
// tiles' inner loops: there the asm statements changed the code around them and cost the
// quantized tiles 25-40 % (docs/benchmarks.md, "Decode attention from memory").
inline void prefetch_lines(const char* p, int64_t n) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto last = reinterpret_cast<uintptr_t>(p + n - 1);
  for (uintptr_t line = first; line <= last; line += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
  }
}

// prefetch_lines for a length known at compile time: a fixed run of requests, one per 64 bytes
// and one for the last byte, that unrolls with its caller's loop (no loop of its own left to
// keep that caller's accumulators out of registers).
template <int64_t N>
inline void prefetch_span(const char* p) {
  static_assert(N > 0);
  for (int64_t offset = 0; offset < N; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
  if constexpr (N % 64 != 1) _mm_prefetch(p + N - 1, _MM_HINT_T0);
}

// prefetch_span for a span that starts on a cache line and is whole lines (the lane layout's
// groups): one request per line, without prefetch_span's request for the last byte, which is
// then the last line's again.
template <int64_t N>
inline void prefetch_whole_lines(const char* p) {
  static_assert(N > 0 && N % 64 == 0);
  for (int64_t offset = 0; offset < N; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
}

}  // namespace bricks::cpu::detail
