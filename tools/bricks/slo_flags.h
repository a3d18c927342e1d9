// The SLO flags of `bricks run` and `bricks bench`, and the label a manifest gets in plots.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "manifest/manifest.h"
#include "report/report_slo.h"

namespace bricks::cli {

// SLO targets given on the command line; each one set overrides the manifest's.
struct SloFlags {
  std::optional<double> ttft_s, tpot_s, tbt_s, percentile, attainment;
  // The manifest's output.slo with these overrides applied.
  engine::SloSpec apply(const manifest::Manifest& m) const;
  // The same, checked: nullopt, with the problem printed to stderr (see slo_problem), when
  // a target is out of range; `file` names the manifest.
  std::optional<engine::SloSpec> checked(const manifest::Manifest& m,
                                         const std::string& file) const;
};

// What is wrong with `s` (a negative target, a percentile outside (0, 100], an
// attainment outside (0, 1]), or "" when nothing is. `file` names the manifest.
std::string slo_problem(const engine::SloSpec& s, const std::string& file);

// Adds --slo-ttft, --slo-tpot, --slo-tbt, --slo-percentile, --slo-attainment to `cmd`.
void add_slo_flags(CLI::App* cmd, SloFlags& s);

// A short label for plots and tables: the manifest file's stem.
std::string manifest_label(const manifest::LoadedManifest& m);

}  // namespace bricks::cli
