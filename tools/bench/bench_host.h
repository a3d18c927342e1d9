// The host API that the benchmarks which load bricks directly hand to `create`: warnings
// and errors logged to stderr, a clock at zero, aligned allocation, and errors carrying their
// message. `wired` answers the brick's requests for the bricks wired to it.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bricks/abi.h"

namespace bricks::bench {

struct BenchError {
  std::string message;
};

inline bricks_error* error_new(bricks_code, const char* m) {
  return reinterpret_cast<bricks_error*>(new BenchError{m != nullptr ? m : ""});
}
inline void host_log(void*, bricks_log_level level, const char* m) {
  if (level >= BRICKS_LOG_WARN) std::fprintf(stderr, "%s\n", m);
}
inline double host_now(void*) { return 0.0; }
inline void* host_alloc(void*, size_t bytes, size_t align) {
  return std::aligned_alloc(align, (bytes + align - 1) / align * align);
}
inline void host_free(void*, void* p) { std::free(p); }

using WiredFn = bricks_brick_ref (*)(void*, bricks_kind);

inline bricks_host_api host_api(WiredFn wired) {
  return {sizeof(bricks_host_api),
          nullptr,
          &host_log,
          &host_now,
          &host_alloc,
          &host_free,
          &error_new,
          wired,
          {}};
}

// Frees an error made by error_new.
inline void free_error(bricks_error* err) { delete reinterpret_cast<BenchError*>(err); }

// Reports `err` as the benchmark's error and frees it; true if there was one.
inline bool failed(benchmark::State& state, bricks_error* err) {
  if (err == nullptr) return false;
  state.SkipWithError(reinterpret_cast<BenchError*>(err)->message.c_str());
  free_error(err);
  return true;
}

}  // namespace bricks::bench
