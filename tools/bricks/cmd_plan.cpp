// `bricks plan MANIFEST --slo-tpot S`: Mélange's cheapest mix of GPU types for the
// manifest's workload under the SLO (core/plan/plan.h), with the best single type beside
// it and a check of the mix on a heterogeneous sim cluster.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "output_file.h"
#include "plan/plan.h"
#include "plan/plan_error.h"
#include "plugin_scan.h"
#include "sim/preset_names.h"
#include "slo_flags.h"

namespace bricks::cli {
namespace {

namespace fs = std::filesystem;

struct PlanArgs {
  std::string manifest;
  SloFlags slo;
  std::vector<std::string> gpus{"a10g", "l4", "a100-80gb", "h100-80gb"};
  double rate = 0;
  std::string input_edges, output_edges;
  std::string cache;
  bool no_cache = false;
  int min_requests = 200, max_requests = 10000;
  double run_seconds = 60;
  double tolerance = 0.05;
  double max_load = 0.9;
  int check_requests = 0;
  bool no_check = false;
  bool json = false;
  std::string json_out;
  bool no_progress = false;
  bool allow_group_writable_plugins = false;
};

std::string gpu_preset_list() {
  std::string names;
  for (std::string_view n : sim::kGpuPresetNames)
    names += (names.empty() ? "" : ", ") + std::string(n);
  return names;
}

// A preset name as given, in any case, or its unique prefix before a '-' ("a100" for
// "a100-80gb"); "" when none matches.
std::string resolve_gpu(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string found;
  for (std::string_view n : sim::kGpuPresetNames) {
    if (n == name) return name;
    if (n.rfind(name + "-", 0) == 0) found = found.empty() ? std::string(n) : "?";
  }
  return found == "?" ? "" : found;
}

std::string money(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.2f/h", v);
  return buf;
}

std::string mix_text(const plan::PlanResult& r) {
  std::string s;
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    if (r.mix.counts[g] == 0) continue;
    s += (s.empty() ? "" : " + ") + std::to_string(r.mix.counts[g]) + " x " + r.gpus[g];
  }
  return s.empty() ? "no GPUs" : s;
}

std::string assignment_text(const plan::PlanResult& r, const plan::PlanBucket& b) {
  std::string s;
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    if (b.share[g] < 5e-4) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.0f%%", r.gpus[g].c_str(), b.share[g] * 100);
    s += (s.empty() ? "" : ", ") + std::string(buf);
  }
  return s;
}

void print_plan(const plan::PlanResult& r, const engine::SloSpec& slo) {
  std::printf(
      "Plan for %s: %s for %.0f%% of requests, %.3g req/s (%s), %zu requests sampled "
      "into %zu buckets\n",
      r.model.c_str(), slo.targets().c_str(), slo.attainment * 100, r.rate,
      r.rate_given ? "--rate" : "the workload's rate", r.sampled_requests, r.buckets.size());
  std::printf(
      "profile: %zu capacities simulated, %zu cached%s%s; GPUs loaded to at most "
      "%.0f%% of their capacity\n\n",
      r.profiled, r.cached, r.cache_dir.empty() ? " (no cache)" : " in ", r.cache_dir.c_str(),
      r.max_load * 100);

  std::printf("  %-26s %6s %9s", "bucket (tokens)", "share", "req/s");
  for (const std::string& g : r.gpus) std::printf(" %11s", g.c_str());
  std::printf("  assigned to\n");
  for (const plan::PlanBucket& b : r.buckets) {
    std::printf("  %-26s %5.1f%% %9.3g", b.bucket.label().c_str(), b.bucket.share * 100,
                b.bucket.rate);
    for (const plan::BucketCapacity& c : b.cap) {
      if (c.rate > 0) {
        std::printf(" %11.3g", c.rate);
      } else {
        std::printf(" %11s", "-");
      }
    }
    std::printf("  %s\n", assignment_text(r, b).c_str());
  }
  std::printf("  (per-type columns: requests per second one GPU sustains; - cannot serve)\n\n");

  std::printf("single types:\n");
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    if (r.single[g].cost < 0) {
      std::printf("  %-10s cannot serve every bucket\n", r.gpus[g].c_str());
    } else {
      std::printf("  %-10s %3d GPUs  %s\n", r.gpus[g].c_str(), r.single[g].gpus,
                  money(r.single[g].cost).c_str());
    }
  }
  std::printf("\nmix: %s = %s\n", mix_text(r).c_str(), money(r.mix.cost_per_hour).c_str());
  if (r.best_single >= 0) {
    const plan::SingleType& s = r.single[r.best_single];
    std::printf("best single type: %d x %s = %s; the mix saves %.1f%%\n", s.gpus,
                r.gpus[r.best_single].c_str(), money(s.cost).c_str(), r.saving * 100);
  } else {
    std::printf("best single type: none serves every bucket alone\n");
  }
  const plan::PlanCheck& c = r.check;
  if (c.ran) {
    std::printf(
        "check (sim cluster, routed by bucket): %zu requests at %.3g req/s, %.1f%% met the SLO "
        "(target %.0f%%), %zu failed, median TTFT %.3f s early / %.3f s late: %s\n",
        c.requests, r.rate, c.attainment * 100, slo.attainment * 100, c.failed, c.ttft_median_early,
        c.ttft_median_late,
        c.accepted ? "accepted"
                   : (!c.attained ? "rejected (attainment)"
                                  : (c.stable ? "rejected (failed requests)"
                                              : "rejected (the queue grows)")));
  }
}

nlohmann::json plan_json(const plan::PlanResult& r, const engine::SloSpec& slo) {
  nlohmann::json j;
  j["model"] = r.model;
  j["slo"] = {{"tpot_s", slo.tpot_s}, {"ttft_s", slo.ttft_s}, {"attainment", slo.attainment}};
  j["rate"] = r.rate;
  j["max_load"] = r.max_load;
  j["sampled_requests"] = r.sampled_requests;
  j["profile"] = {
      {"simulated", r.profiled}, {"cached", r.cached}, {"cache_dir", r.cache_dir.string()}};
  j["gpus"] = nlohmann::json::array();
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    j["gpus"].push_back({{"name", r.gpus[g]},
                         {"price_per_hour", r.prices[g]},
                         {"count", r.mix.counts[g]},
                         {"load", r.mix.load[g]},
                         {"single_type_gpus", r.single[g].gpus},
                         {"single_type_cost_per_hour",
                          r.single[g].cost >= 0 ? nlohmann::json(r.single[g].cost) : nullptr}});
  }
  j["buckets"] = nlohmann::json::array();
  for (const plan::PlanBucket& b : r.buckets) {
    nlohmann::json jb = {{"input", {b.bucket.input_lo, b.bucket.input_hi}},
                         {"output", {b.bucket.output_lo, b.bucket.output_hi}},
                         {"profiled_lengths", {b.bucket.input_len, b.bucket.output_len}},
                         {"share", b.bucket.share},
                         {"rate", b.bucket.rate}};
    for (size_t g = 0; g < r.gpus.size(); ++g) {
      jb["capacity"][r.gpus[g]] = b.cap[g].rate;
      if (!b.cap[g].note.empty()) jb["not_served"][r.gpus[g]] = b.cap[g].note;
      jb["assignment"][r.gpus[g]] = b.share[g];
    }
    j["buckets"].push_back(std::move(jb));
  }
  j["mix"] = {{"cost_per_hour", r.mix.cost_per_hour}, {"description", mix_text(r)}};
  if (r.best_single >= 0) {
    j["best_single"] = {{"gpu", r.gpus[r.best_single]},
                        {"gpus", r.single[r.best_single].gpus},
                        {"cost_per_hour", r.single[r.best_single].cost}};
    j["saving"] = r.saving;
  } else {
    j["best_single"] = nullptr;
  }
  if (r.check.ran) {
    j["check"] = {{"requests", r.check.requests},
                  {"failed", r.check.failed},
                  {"attainment", r.check.attainment},
                  {"ttft_median_early_s", r.check.ttft_median_early},
                  {"ttft_median_late_s", r.check.ttft_median_late},
                  {"attained", r.check.attained},
                  {"stable", r.check.stable},
                  {"accepted", r.check.accepted},
                  {"device", r.check.device}};
  } else {
    j["check"] = nullptr;
  }
  return j;
}

int run_plan_command(const PlanArgs& a) {
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;

  const std::optional<engine::SloSpec> checked = a.slo.checked(m->proto, a.manifest);
  if (!checked) return kExitFailure;
  const engine::SloSpec& slo = *checked;
  if (slo.tpot_s <= 0) {
    std::fprintf(stderr,
                 "error: bricks plan needs a TPOT target: give --slo-tpot S (or "
                 "output.slo.tpot_s in the manifest)\n");
    return kExitUsage;
  }
  plan::PlanOptions o;
  o.gpus.clear();
  for (const std::string& g : a.gpus) {
    const std::string name = resolve_gpu(g);
    if (name.empty()) {
      std::fprintf(stderr, "error: --gpus: unknown GPU type '%s'; the sim presets are %s\n",
                   g.c_str(), gpu_preset_list().c_str());
      return kExitUsage;
    }
    o.gpus.push_back(name);
  }
  o.rate = a.rate;
  o.max_load = a.max_load;
  try {
    if (!a.input_edges.empty())
      o.grid.input_edges = plan::parse_edges(a.input_edges, "--input-edges");
    if (!a.output_edges.empty()) {
      o.grid.output_edges = plan::parse_edges(a.output_edges, "--output-edges");
    }
    o.grid.check();
  } catch (const plan::PlanError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  }
  if (a.min_requests > a.max_requests) {
    std::fprintf(stderr, "error: --min-requests is above --max-requests\n");
    return kExitUsage;
  }
  o.profile.slo = slo;
  o.profile.min_requests = a.min_requests;
  o.profile.max_requests = a.max_requests;
  o.profile.min_duration_s = a.run_seconds;
  o.profile.rel_tol = a.tolerance;
  o.profile.allow_group_writable_plugins = a.allow_group_writable_plugins;
  if (!a.no_cache) {
    o.cache_dir = a.cache.empty() ? plan::default_cache_dir(m->base_dir()) : fs::path(a.cache);
  }
  o.check = !a.no_check;
  o.check_requests = a.check_requests;

  plan::PlanResult r;
  try {
    r = plan::make_plan(*m, o, [&](const std::string& line) {
      if (!a.no_progress) std::fprintf(stderr, "plan: %s\n", line.c_str());
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  const nlohmann::json j = plan_json(r, slo);
  if (a.json) {
    std::printf("%s", json_file_text(j).c_str());
  } else {
    print_plan(r, slo);
  }
  if (!a.json_out.empty()) {
    try {
      write_file_atomically(a.json_out, json_file_text(j));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitInputError;
    }
  }
  return !r.check.ran || r.check.accepted ? kExitOk : kExitFailure;
}

void add_plan_flags(CLI::App* cmd, PlanArgs* a) {
  cmd->add_option("manifest", a->manifest,
                  "Manifest with device.kind \"sim\", a device.sim_model and a workload "
                  "(generator or trace)")
      ->required()
      ->check(CLI::ExistingFile);
  add_slo_flags(cmd, a->slo);
  cmd->add_option("--gpus", a->gpus,
                  "GPU types to mix, comma-separated sim presets: " + gpu_preset_list() +
                      " (any case; a100 and h100 name the 80 GB presets)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rate", a->rate,
                  "Requests per second to plan for (default: the workload's own rate)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-load", a->max_load,
                  "Share of each GPU's profiled capacity the plan may use (1 = Mélange's "
                  "packing to the edge of a stable queue; below 1 leaves headroom)")
      ->check(CLI::Range(0.05, 1.0))
      ->capture_default_str();
  cmd->add_option("--input-edges", a->input_edges,
                  "Input-length bucket edges in tokens, rising from 1 (default "
                  "1,25,100,250,500,1000,2000,4000,8000,16000,32000)");
  cmd->add_option("--output-edges", a->output_edges,
                  "Output-length bucket edges in tokens (default 1,25,100,250,500,1000,2000,4000)");
  auto* cache =
      cmd->add_option("--cache", a->cache,
                      "Directory of the profile cache (default $XDG_CACHE_HOME/bricks/plan, "
                      "else ~/.cache/bricks/plan)");
  cmd->add_flag("--no-cache", a->no_cache, "Profile every capacity again and keep none")
      ->excludes(cache);
  cmd->add_option("--min-requests", a->min_requests, "Requests per profile run, at least")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-requests", a->max_requests, "Requests per profile run, at most")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--run-seconds", a->run_seconds,
                  "Seconds of arrivals per profile run, within the request bounds (short "
                  "runs end before queues build and overstate capacity)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--tolerance", a->tolerance, "Relative tolerance of each capacity search")
      ->check(CLI::Range(0.001, 0.5))
      ->capture_default_str();
  cmd->add_option("--check-requests", a->check_requests,
                  "Requests of the check run (default: rate x 120 s, within 500..20000)")
      ->check(CLI::Range(1, 10000000));
  cmd->add_flag("--no-check", a->no_check, "Do not simulate the chosen mix");
  cmd->add_flag("--json", a->json, "Print the plan as JSON instead of tables");
  cmd->add_option("--json-out", a->json_out, "Also write the plan as JSON to this file");
  cmd->add_flag("--no-progress", a->no_progress, "Do not print profiling progress on stderr");
  add_plugin_trust_flag(cmd, a->allow_group_writable_plugins);
  cmd->footer(
      "Exit code: 0 a mix was found (and the simulated cluster met the SLO), 1 no mix meets "
      "the SLO, the check failed or the manifest is invalid, 2 bad command line, 3 a file "
      "could not be read or written.");
}

const Command kPlan{"plan", 56,
                    "Find the cheapest mix of GPU types (Mélange) for the manifest's workload "
                    "under a TPOT SLO: capacities profiled per request-size bucket on the sim "
                    "device, an ILP, and a check of the mix on a simulated cluster",
                    add_plan_flags, run_plan_command};

}  // namespace
}  // namespace bricks::cli
