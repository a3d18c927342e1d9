// Profiling on the sim device: the highest request rate one GPU of a type sustains for
// requests of one bucket's size, under the SLO.
//
// Each point of the search is one simulation: one instance of the manifest's bricks on a
// sim device of that GPU preset (the manifest's device section otherwise), serving
// requests of the bucket's representative lengths with Poisson arrivals. A rate passes
// when
//  - every request finishes and the attainment target holds for all requests and for the
//    later half by arrival (engine::meets_attainment: a run past capacity has growing
//    queues, so its late requests fare worse), and
//  - the queue is stable: the median TTFT stays within twice the TTFT of one request alone
//    plus a backlog allowance of min(stable_ttft_s, stable_share x the run's arrival span).
//    Without this, a TPOT-only SLO would pass any rate: requests past capacity wait in the
//    queue and then decode at full speed. Tying the allowance to the span keeps a short
//    run (a high rate meets max_requests quickly) from hiding a growing queue. The later
//    half's median TTFT must also stay within that allowance plus twice the earlier
//    half's (plan_check.h's queue_stable, the test the check of a plan applies).
// The rate search (report_capacity.h) doubles or halves from a start, then bisects. A run
// lasts D = max(min_duration_s, 3 x the lifetime of a request at the SLO (its TTFT alone
// plus output_len x the TPOT target)) seconds of arrivals: rate x D requests, at least
// min_requests and at most max_requests, so that each run reaches a steady state (too
// short a run overstates capacity: its queues never build up; docs/experiments.md §5).
//
// Thread safety: one thread uses a Profiler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "host/registry.h"
#include "manifest/manifest.h"
#include "plan/plan_buckets.h"
#include "plan/plan_cache.h"
#include "report/report_slo.h"

namespace bricks::plan {

struct ProfileOptions {
  engine::SloSpec slo;           // TPOT (and TTFT) targets and the attainment share
  int32_t min_requests = 200;    // per run, at least
  int32_t max_requests = 10000;  // per run, at most
  double min_duration_s = 60;    // of arrivals per run, when the request bounds allow
  double stable_ttft_s = 2;      // the queue-stability allowance on the median TTFT
  double stable_share = 0.05;    // ... at most this share of the run's arrival span
  double rel_tol = 0.05;         // of the rate search
  int32_t max_runs = 14;         // per (GPU type, bucket)
  bool allow_group_writable_plugins = false;
  // Everything the capacities depend on besides the GPU and the bucket size, for the cache.
  std::string cache_key(const manifest::Manifest& m, const BucketGrid& grid) const;
};

// Told when a (GPU type, bucket) starts and ends: a line for the user.
using ProfileProgress = std::function<void(const std::string& line)>;

class Profiler {
 public:
  // Loads the manifest's plugins once. `m` must outlive the profiler. Throws PlanError
  // when the manifest does not run on the sim device (naming device.kind and
  // device.sim_model), and engine::RuntimeError when its plugins or bricks are invalid.
  Profiler(const manifest::LoadedManifest& m, ProfileOptions options);
  ~Profiler();

  // Capacity of one GPU of preset `gpu` for bucket `b`: from `cache` when it holds one,
  // else simulated and stored there. `start_rate` > 0 starts the search (e.g. another
  // bucket's capacity). A GPU the model does not fit on has capacity 0, with the reason.
  BucketCapacity capacity(const std::string& gpu, const Bucket& b, ProfileCache& cache,
                          double start_rate = 0);

 private:
  struct Run;
  // Whether one run of `gpu` at `rate` for `b`'s lengths passes (as above).
  bool passes(const std::string& gpu, const Bucket& b, double rate);
  Run run(const std::string& gpu, const Bucket& b, double rate, int32_t requests) const;
  int32_t context_length() const;

  const manifest::LoadedManifest& m_;
  ProfileOptions o_;
  std::unique_ptr<host::Registry> registry_;
  // Of the bucket being profiled: one request's TTFT alone, and D above.
  double alone_ttft_s_ = 0, duration_s_ = 0;
};

// Checks that `m` runs on the sim device with a model preset; throws PlanError naming the
// field and the fix otherwise.
void check_sim_manifest(const manifest::LoadedManifest& m);

}  // namespace bricks::plan
