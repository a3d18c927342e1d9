// Timing and counters shared by the kernel benchmarks (harness.h).
#include "harness.h"

#include <time.h>

#include <string>

namespace bricks::cpu::bench {

std::map<int, Rates> g_triad_gbs, g_read_gbs, g_peak_gflops;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

Rates report(benchmark::State& state, const Span& span, int threads, const char* name,
             double amount) {
  const Rates r{amount / span.wall(), amount / span.busy(threads)};
  state.counters[name] = r.wall;
  state.counters[std::string(name) + "_busy"] = r.busy;
  return r;
}

void report_share(benchmark::State& state, const char* name, Rates got,
                  const std::map<int, Rates>& base, int threads) {
  const auto it = base.find(threads);
  if (it == base.end()) return;
  state.counters[name] = 100 * got.wall / it->second.wall;
  state.counters[std::string(name) + "_busy"] = 100 * got.busy / it->second.busy;
}

void set_threads(int n) { set_num_threads(n); }

}  // namespace bricks::cpu::bench
