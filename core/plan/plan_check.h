// Step 4 of a plan (plan.h): the chosen mix run as a heterogeneous sim cluster at the
// planned rate, each request routed by its bucket to a GPU type's pool.
#pragma once

#include "manifest/manifest.h"
#include "plan/plan.h"

namespace bricks::plan {

// Simulates `r.mix` on `m`'s workload retargeted to r.rate: check_requests requests
// (PlanOptions), r.counts[g] instances of preset r.gpus[g] in pool g. Throws
// engine::RuntimeError or engine::WorkloadError.
PlanCheck check_plan(const manifest::LoadedManifest& m, const PlanResult& r,
                     const PlanOptions& options);

// The queue-stability test: the later half's median TTFT (by arrival) is within
// `slack_s` plus twice the earlier half's. Also returns both medians.
bool queue_stable(const std::vector<engine::RequestRecord>& records, double slack_s,
                  double* early_median = nullptr, double* late_median = nullptr);

}  // namespace bricks::plan
