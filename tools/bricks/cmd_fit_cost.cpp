// `bricks fit-cost CSV... --gpu NAME [--out FILE]`: fits the sim cost model's GEMM constants
// to measured per-layer times (Vidur's operator profiles), prints measured against
// modelled times per model and tensor-parallel degree, and writes the constants as a cost
// preset (docs/cost-model.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "output_file.h"
#include "sim/cost_fit.h"
#include "sim/cost_presets.h"
#include "sim/gpu_presets.h"
#include "sim/preset_text.h"
#include "sim/sim_error.h"

namespace bricks::cli {
namespace {

struct FitCostArgs {
  std::vector<std::string> csvs;
  std::string gpu = "a100-80gb";
  std::string constants, out;
  bool no_fit = false, all_rows = false;
  double tolerance = 0.15;
};

// Rows shown by default: powers of two, and the first batch past each 64-token tile edge
// up to 1024 tokens, where the time steps up.
bool shown(int64_t tokens) {
  return (tokens & (tokens - 1)) == 0 || (tokens <= 1024 && tokens % 64 == 8);
}

// Worst ratio of one group: the one farthest from 1 in log terms.
struct Worst {
  double ratio = 1;
  int64_t tokens = 0;
  int inside = 0, count = 0;
  void add(double r, int64_t t, double tolerance) {
    if (std::abs(std::log(r)) > std::abs(std::log(ratio))) {
      ratio = r;
      tokens = t;
    }
    inside += (r >= 1 - tolerance && r <= 1 + tolerance) ? 1 : 0;
    ++count;
  }
};

// Prints the table of one set of constants; returns whether every sample is inside.
bool print_table(const sim::GpuSpec& gpu, const std::vector<sim::LinearSample>& samples,
                 const sim::CostConstants& k, const FitCostArgs& a) {
  std::map<std::pair<std::string, int32_t>, Worst> worst;
  std::pair<std::string, int32_t> group;
  bool all_inside = true;
  for (const sim::LinearSample& s : samples) {
    if (std::pair{s.model, s.tp} != group) {
      group = {s.model, s.tp};
      std::printf("\n%s, tp %d\n%8s %12s %12s %7s\n", s.model.c_str(), s.tp, "tokens",
                  "measured ms", "modelled ms", "ratio");
    }
    const double modelled = sim::modelled_linear_seconds(gpu, s, k);
    const double ratio = modelled / s.linear_s;
    worst[group].add(ratio, s.tokens, a.tolerance);
    const bool outside = ratio < 1 - a.tolerance || ratio > 1 + a.tolerance;
    all_inside = all_inside && !outside;
    if (a.all_rows || shown(s.tokens) || outside) {
      std::printf("%8lld %12.4f %12.4f %7.3f%s\n", static_cast<long long>(s.tokens),
                  s.linear_s * 1e3, modelled * 1e3, ratio, outside ? "  outside" : "");
    }
  }
  std::printf("\nworst ratio (modelled / measured) per model and tp; within +-%.0f %%:\n",
              a.tolerance * 100);
  for (const auto& [key, w] : worst) {
    std::printf("  %-40s tp %d  %.3f at %lld tokens  %d/%d within\n", key.first.c_str(), key.second,
                w.ratio, static_cast<long long>(w.tokens), w.inside, w.count);
  }
  return all_inside;
}

std::string header(const FitCostArgs& a, const sim::FitResult& fit) {
  std::string names;
  for (const std::string& c : a.csvs) {
    names += " " + std::filesystem::path(c).filename().string();
  }
  char rms[64];
  std::snprintf(rms, sizeof rms, "%.4f", fit.rms_log_error);
  return "Cost-model constants of " + a.gpu + ", fitted by\n  bricks fit-cost" + names + " --gpu " +
         a.gpu + "\nto measured per-layer GEMM times (docs/cost-model.md); rms of " +
         "log(modelled / measured): " + rms + ".\nFitted: gemm_efficiency_max, " +
         "gemm_half_outputs, gemm_latency_us, roofline_exponent,\nmemory_efficiency; " +
         "layer_overhead_us is the measured small-batch time of the\nother kernels of a layer. " +
         "The rest are the generic defaults.";
}

int run_fit_cost(const FitCostArgs& a) {
  try {
    const sim::GpuSpec gpu = sim::load_gpu(a.gpu, std::filesystem::current_path());
    sim::CostConstants start;
    if (!a.constants.empty()) {
      start = sim::parse_cost_preset(sim::read_preset_file(a.constants), a.constants);
    }
    std::vector<sim::LinearSample> samples;
    for (const std::string& csv : a.csvs) {
      std::vector<sim::LinearSample> more = sim::load_linear_samples(csv);
      samples.insert(samples.end(), more.begin(), more.end());
    }
    std::printf("%zu measured points from %zu file(s) on %s\n", samples.size(), a.csvs.size(),
                gpu.name.c_str());
    if (a.no_fit) return print_table(gpu, samples, start, a) ? kExitOk : kExitFailure;

    const sim::FitResult fit = sim::fit_linear_constants(gpu, samples, start);
    const sim::CostConstants& k = fit.constants;
    std::printf("fit: %d iterations, rms log error %.4f\n", fit.iterations, fit.rms_log_error);
    std::printf(
        "  gemm_efficiency_max %.4g, gemm_half_outputs %.4g, memory_efficiency %.4g,\n"
        "  gemm_latency_us %.4g, roofline_exponent %.4g, layer_overhead_us %.4g\n",
        k.gemm_efficiency_max, k.gemm_half_outputs, k.memory_efficiency, k.gemm_latency_s * 1e6,
        k.roofline_exponent, k.layer_overhead_s * 1e6);
    const bool inside = print_table(gpu, samples, k, a);
    if (!a.out.empty()) {
      write_file_atomically(a.out, sim::format_cost_preset(k, header(a, fit)));
      std::printf("\nwrote %s\n", a.out.c_str());
    }
    return inside ? kExitOk : kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
}

void add_fit_cost_flags(CLI::App* cmd, FitCostArgs* args) {
  cmd->add_option("csv", args->csvs,
                  "Measured times, one CSV per model: Vidur's mlp.csv columns num_tokens, tp, "
                  "attn_pre_proj_ms, attn_post_proj_ms, mlp_up_proj_ms, mlp_down_proj_ms, "
                  "n_head, n_kv_head, n_embd, n_expanded_embd (repeated rows are averaged)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", args->gpu,
                  "GPU the times were measured on: a preset name, or a GpuPreset .textproto file")
      ->capture_default_str();
  cmd->add_option("--constants", args->constants,
                  "Cost preset to start from (default: the generic constants)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Write the fitted constants here (a .textproto)");
  cmd->add_flag("--no-fit", args->no_fit,
                "Only compare: print the table for the --constants given (or the generic ones)");
  cmd->add_flag("--all", args->all_rows,
                "Print every measured point (default: powers of two, the batches just past "
                "each 64-token tile edge up to 1024, and every point outside the tolerance)");
  cmd->add_option("--tolerance", args->tolerance, "Share a modelled time may be off by")
      ->check(CLI::Range(0.001, 10.0))
      ->capture_default_str();
  cmd->footer(
      "Example:\n  bricks fit-cost tests/data/vidur-a100/*.csv --gpu a100-80gb "
      "--out core/sim/presets/costs/a100-80gb.textproto\n"
      "Exit code: 0 every point within the tolerance, 1 some outside, 2 bad command "
      "line, 3 a file could not be read or parsed.");
}

const Command kFitCost{"fit-cost", 60,
                       "Fit the sim cost model's GEMM constants to measured per-layer times of a "
                       "GPU (Vidur's operator profiles), print measured against modelled times, "
                       "and write the constants as a cost preset",
                       add_fit_cost_flags, run_fit_cost};

}  // namespace
}  // namespace bricks::cli
