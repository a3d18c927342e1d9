// Splitting bricks_model's encoding loops (quantize_model, make_model) over threads.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <system_error>
#include <thread>
#include <vector>

namespace bricks::model {

// Threads to use when the caller says 0: one per core.
inline int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

// Runs job(0) .. job(n - 1) at once, the last on the calling thread, and rethrows the first
// exception any of them threw once all have finished.
inline void run_parallel(int64_t n, const std::function<void(int64_t)>& job) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  const auto guarded = [&](int64_t w) {
    try {
      job(w);
    } catch (...) {
      errors[static_cast<size_t>(w)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int64_t w = 0; w + 1 < n; ++w) {
    try {
      pool.emplace_back(guarded, w);
    } catch (const std::system_error&) {  // no thread to be had: do that share here
      guarded(w);
    }
  }
  guarded(n - 1);
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace bricks::model
