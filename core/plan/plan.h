// `bricks plan`: Mélange's cost-optimal mix of GPU types for a manifest's workload under a
// latency SLO, on the sim device.
//
//  1. The workload's requests (its generator sampled with its seed, or its trace) are
//     bucketed by (input, output) length (plan_buckets.h); each bucket's rate is its share
//     of the requests times the plan's rate.
//  2. Each GPU type's capacity for each bucket is profiled by simulation, or read from the
//     profile cache (plan_profile.h, plan_cache.h).
//  3. The ILP picks GPU counts and each bucket's shares per type (plan_ilp.h); the best
//     single type is computed beside it.
//  4. The mix is checked on the simulator: a heterogeneous cluster of the chosen GPUs,
//     each request routed to a type's pool by its bucket (plan_router.h) and to the least
//     loaded instance there, at the planned rate. The plan is accepted when the requests
//     meet the attainment target (all of them and the later half; no request fails) and the
//     queue is stable (the later half's median TTFT within stable_ttft_s plus twice the
//     earlier half's).
//
// Thread safety: one thread runs a plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "plan/plan_buckets.h"
#include "plan/plan_cache.h"
#include "plan/plan_ilp.h"
#include "plan/plan_profile.h"

namespace bricks::plan {

struct PlanOptions {
  std::vector<std::string> gpus{"a10g", "l4", "a100-80gb", "h100-80gb"};  // sim presets
  double rate = 0;  // requests per second; 0 = the workload's own
  BucketGrid grid;
  ProfileOptions profile;
  double max_load = 0.9;            // PlanProblem::max_load
  std::filesystem::path cache_dir;  // empty: no cache
  // Requests of the workload that are bucketed (0 = all of them, up to 100000).
  size_t sample_requests = 0;
  bool check = true;  // simulate the chosen mix
  // Requests of the check run; 0 = rate * 120 s, within [500, 20000].
  int32_t check_requests = 0;
};

struct PlanBucket {
  Bucket bucket;
  std::vector<BucketCapacity> cap;  // per GPU type, as PlanResult::gpus
  std::vector<double> share;        // x[b][g] of the chosen mix
};

struct SingleType {
  int32_t gpus = 0;  // GPUs of this type alone
  double cost = -1;  // per hour; < 0 when it cannot serve some bucket
};

struct PlanCheck {
  bool ran = false;
  size_t requests = 0, failed = 0;
  double attainment = 0;                               // share of requests meeting the SLO
  double ttft_median_early = 0, ttft_median_late = 0;  // earlier and later half by arrival
  bool attained = false;                               // engine::meets_attainment
  bool stable = false;                                 // the queue-stability test
  bool accepted = false;                               // no failures, attained and stable
  std::string device;                                  // the cluster's summary
};

struct PlanResult {
  std::string model;
  std::vector<std::string> gpus;
  std::vector<double> prices;
  double rate = 0;          // the planned rate, requests per second
  bool rate_given = false;  // from the options rather than the workload
  double max_load = 1;      // PlanOptions::max_load
  size_t sampled_requests = 0;
  std::vector<PlanBucket> buckets;
  PlanSolution mix;
  std::vector<SingleType> single;   // per GPU type
  int32_t best_single = -1;         // index into gpus; -1 when no type serves every bucket
  double saving = 0;                // 1 - mix cost / best single cost (0 without a best)
  size_t profiled = 0, cached = 0;  // (type, bucket) capacities simulated now / read
  std::filesystem::path cache_dir;
  PlanCheck check;
};

// Told a line of progress at a time.
using PlanProgress = std::function<void(const std::string& line)>;

// Runs steps 1-4 above. Throws PlanError (a non-sim manifest, an unknown GPU preset, no
// feasible mix), engine::RuntimeError or engine::WorkloadError, each with a message for the
// user.
PlanResult make_plan(const manifest::LoadedManifest& m, const PlanOptions& options,
                     const PlanProgress& progress = {});

// The workload's own rate: its generator's rate (its tenants' rates summed when they have
// their own), or a trace's mean rate as replayed. Throws PlanError when it has none.
double workload_rate(const manifest::LoadedManifest& m);

}  // namespace bricks::plan
