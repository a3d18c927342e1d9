// Running one manifest's workload to its end and measuring it: what `bricks run` does once
// and `bricks bench` does for every manifest and rate.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "report/report.h"
#include "report/step_trace.h"
#include "runtime/runtime.h"

namespace bricks::engine {

// Told after each engine step: requests ended so far, submitted, engine clock seconds.
using RunProgress = std::function<void(size_t ended, size_t submitted, double now_s)>;

struct RunOptions {
  RunProgress progress;
  // Keep only the first `max_requests` requests of the workload (0 = all).
  size_t max_requests = 0;
  // Asked between steps; true ends the run early: the report then covers the requests
  // that ended (the caller names the reason in Report::interrupted_by).
  std::function<bool()> stop;
  // Every step of every engine is added here (one track per instance). Null: none.
  StepTrace* trace = nullptr;
};

// Builds the runtime (or the cluster, for scheduler/disagg), makes the workload
// (length-only prompts where the device has no tokenizer; images and adapters as the
// manifest assigns them), runs it to the end and returns the report measured against `slo`.
// Throws RuntimeError or WorkloadError with a message for the user.
Report run_manifest(const manifest::LoadedManifest& m, const RuntimeOptions& options,
                    const SloSpec& slo, const RunOptions& run = {});

// The tenants' names from the generator, by tenant id ("tenant<i>" when unnamed).
std::vector<std::string> tenant_names(const manifest::Manifest& m);

}  // namespace bricks::engine
