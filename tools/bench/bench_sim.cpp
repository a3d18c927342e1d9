// Replay benchmark of the sim device: a manifest's workload (by default 10,000 requests of
// manifests/sim-fcfs.textproto: Poisson arrivals, ShareGPT-like lengths, fcfs + paged on a
// simulated A100-80GB serving Mistral-7B) through the engine, timed by the wall clock.
// Requests are drawn and submitted as they arrive and dropped as they end (the report
// reads their summaries), as `bricks run` does. Prints the wall seconds of each phase,
// engine steps per second, the peak resident memory and the simulated outcome. Asserts
// nothing.
//
//   build/bin/bench_sim [manifest] [--requests N] [--rate R]
//
// Run it from the repository root (the default manifest path is relative). Target:
// 1,000,000 requests in under 60 s and 2 GB.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <sys/resource.h>

#include "engine/sim_device.h"
#include "manifest/manifest.h"
#include "report/report.h"
#include "runtime/runtime.h"
#include "workload/workload.h"
#include "workload/workload_feed.h"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The process's peak resident set so far, bytes.
double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux reports KiB
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [manifest.textproto] [--requests N] [--rate R]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bricks;
  std::string file = "manifests/sim-fcfs.textproto";
  int32_t requests = 10000;
  double rate = 0;  // 0: the manifest's
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--requests" || a == "--rate") && i + 1 < argc) {
      char* end = nullptr;
      const double v = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || v < 0) return usage(argv[0]);
      if (a == "--requests") {
        requests = static_cast<int32_t>(v);
      } else {
        rate = v;
      }
    } else if (!a.empty() && a[0] != '-') {
      file = a;
    } else {
      return usage(argv[0]);
    }
  }

  std::vector<manifest::Diagnostic> diags;
  auto m = manifest::load_manifest(file, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.format().c_str());
  if (!m) return 1;
  auto* g = m->proto.mutable_workload()->mutable_generator();
  engine::retarget_generator(*g, rate > 0 ? rate : g->rate(), requests, 0);

  try {
    const auto t0 = Clock::now();
    auto rt = engine::Runtime::create(*m, {});
    const double create_s = since(t0);

    const double rss_before = peak_rss_bytes();
    const auto t1 = Clock::now();
    engine::WorkloadContext ctx;
    ctx.vocab_size = rt->vocab_size();
    ctx.base_dir = m->base_dir();
    engine::RequestStream work(m->proto.workload(), ctx);
    engine::Engine& eng = rt->engine();
    eng.keep_ended_requests(false);
    const double workload_s = since(t1);

    const auto t2 = Clock::now();
    engine::run_stream(eng, work);
    const double run_s = since(t2);

    const auto t3 = Clock::now();
    const engine::Report rep = engine::Report::from(eng);
    const double report_s = since(t3);
    const double rss = peak_rss_bytes();
    const auto* sim = dynamic_cast<const engine::SimDevice*>(&eng.device());
    std::printf("manifest        %s\n", file.c_str());
    std::printf("device          %s\n", rt->device_summary().c_str());
    std::printf("requests        %zu submitted, %zu finished, %zu failed\n", rep.submitted,
                rep.finished, rep.failed);
    std::printf("wall            create %.3f s, workload %.3f s, run %.3f s, report %.3f s\n",
                create_s, workload_s, run_s, report_s);
    std::printf(
        "peak rss        %.1f MiB (%.0f bytes per request over the %.1f MiB before the "
        "workload)\n",
        rss / (1 << 20), (rss - rss_before) / static_cast<double>(rep.submitted),
        rss_before / (1 << 20));
    std::printf("steps           %lld (%.0f steps/s, %.0f requests/s of wall time)\n",
                static_cast<long long>(eng.stats().steps),
                static_cast<double>(eng.stats().steps) / run_s,
                static_cast<double>(rep.submitted) / run_s);
    std::printf("simulated       %.1f s, %.2f requests/s, %.0f output tokens/s\n", rep.duration_s,
                rep.request_throughput, rep.output_throughput);
    std::printf("ttft            mean %.3f s, p99 %.3f s\n", rep.ttft.mean, rep.ttft.p99);
    std::printf("itl             mean %.4f s, p99 %.4f s (%zu gaps)\n", rep.itl.mean, rep.itl.p99,
                rep.itl.count);
    std::printf("tpot            mean %.4f s, p99 %.4f s\n", rep.tpot.mean, rep.tpot.p99);
    std::printf("preemptions     %lld\n", static_cast<long long>(rep.preemptions));
    if (sim != nullptr) {
      const auto& t = sim->totals();
      std::printf(
          "step time       linear %.1f s, attention %.1f s, lm head %.1f s, comm %.1f s, "
          "overhead %.1f s, swaps %.1f s\n",
          t.parts.linear_s, t.parts.attention_s, t.parts.lm_head_s, t.parts.comm_s,
          t.parts.overhead_s, t.swap_s);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
