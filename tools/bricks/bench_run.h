// Running one manifest's workload to its end and measuring it: what `bricks run` does
// once and `bricks bench` does for every manifest and rate.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/report.h"
#include "engine/runtime.h"
#include "engine/step_trace.h"
#include "manifest/manifest.h"

namespace bricks::cli {

// SLO targets given on the command line; each one set overrides the manifest's.
struct SloFlags {
  std::optional<double> ttft_s, tpot_s, tbt_s, percentile, attainment;
  // The manifest's output.slo with these overrides applied.
  engine::SloSpec apply(const manifest::Manifest& m) const;
};

// What is wrong with `s` (a negative target, a percentile outside (0, 100], an
// attainment outside (0, 1]), or "" when nothing is. `file` names the manifest.
std::string slo_problem(const engine::SloSpec& s, const std::string& file);

// Adds --slo-ttft, --slo-tpot, --slo-tbt, --slo-percentile, --slo-attainment to `cmd`.
void add_slo_flags(CLI::App* cmd, SloFlags& s);

// The tenants' names from the generator, by tenant id ("tenant<i>" when unnamed).
std::vector<std::string> tenant_names(const manifest::Manifest& m);

// A short label for plots and tables: the manifest file's stem.
std::string manifest_label(const manifest::LoadedManifest& m);

// Told after each engine step: requests ended so far, submitted, engine clock seconds.
using RunProgress = std::function<void(size_t ended, size_t submitted, double now_s)>;

// Builds the runtime (or the cluster, for scheduler/disagg), makes the workload
// (length-only prompts where the device has no tokenizer; images and adapters as the
// manifest assigns them), keeps its first `max_requests` requests when that is > 0, runs it
// to the end and returns the report measured against `slo`.
// Throws engine::RuntimeError or engine::WorkloadError with a message for the user.
// A SIGINT or SIGTERM (interrupt.h) ends the run after the current step: the report then
// covers the requests that ended and names the signal in `interrupted_by`. With `trace`,
// every step of every engine is added to it.
engine::Report run_manifest(const manifest::LoadedManifest& m,
                            const engine::RuntimeOptions& options, const engine::SloSpec& slo,
                            const RunProgress& progress = {}, size_t max_requests = 0,
                            engine::StepTrace* trace = nullptr);

}  // namespace bricks::cli
