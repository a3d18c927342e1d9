#include "cpu/threads.h"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <atomic>
#include <memory>
#include <mutex>

#if BRICKS_CPU_HAVE_OPENMP
#include <omp.h>
#endif

#include "cpu/threads_internal.h"

namespace bricks::cpu {
namespace {

struct ThreadState {
  std::mutex mu;  // guards `control`
  std::unique_ptr<tbb::global_control> control;
  std::atomic<int> count{0};  // 0: default
};

ThreadState& state() {
  static ThreadState s;
  return s;
}

}  // namespace

void set_num_threads(int n) {
  ThreadState& s = state();
  {
    std::lock_guard lock(s.mu);
    s.control.reset();
    if (n > 0) {
      s.control = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, static_cast<size_t>(n));
    }
    s.count.store(n > 0 ? n : 0);
  }
  sync_openmp_threads();
}

int num_threads() {
  const int n = state().count.load(std::memory_order_relaxed);
  if (n > 0) return n;
  const int d = tbb::info::default_concurrency();
  return d > 0 ? d : 1;
}

void sync_openmp_threads() {
#if BRICKS_CPU_HAVE_OPENMP
  // omp_set_num_threads sets the calling thread's value only, so every thread that enters
  // oneDNN calls this first.
  const int want = num_threads();
  if (omp_get_max_threads() != want) omp_set_num_threads(want);
#endif
}

}  // namespace bricks::cpu
