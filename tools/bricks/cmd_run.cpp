// `bricks run MANIFEST`: loads the model, wires the bricks, runs the manifest's workload
// and prints the report.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "command.h"
#include "interrupt.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "output_file.h"
#include "plugin_scan.h"
#include "progress.h"
#include "report/report_requests.h"
#include "runtime/run_manifest.h"
#include "slo_flags.h"

namespace bricks::cli {
namespace {

struct RunArgs {
  std::string manifest;
  int threads = -1;
  std::string model;
  std::string report_json;
  std::string requests_out;
  std::string trace_out;
  bool quiet = false;
  bool no_progress = false;
  size_t requests = 0;
  bool allow_group_writable_plugins = false;
  SloFlags slo;
};

int run_manifest_command(const RunArgs& a) {
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;

  const std::optional<engine::SloSpec> slo = a.slo.checked(m->proto, a.manifest);
  if (!slo) return kExitFailure;
  engine::RuntimeOptions ro;
  ro.threads = a.threads;
  ro.model = a.model;
  ro.allow_group_writable_plugins = a.allow_group_writable_plugins;
  ProgressBar bar("run", !a.no_progress);
  InterruptPolling polling;
  engine::Report rep;
  engine::StepTrace trace;
  try {
    engine::RunOptions run;
    run.progress = [&](size_t ended, size_t total, double t) {
      char suffix[64];
      std::snprintf(suffix, sizeof suffix, "requests  %.1f s", t);
      bar.update(ended, total, suffix);
    };
    run.max_requests = a.requests;
    run.stop = [] { return interrupted() != 0; };
    run.trace = a.trace_out.empty() ? nullptr : &trace;
    rep = engine::run_manifest(*m, ro, *slo, run);
    rep.interrupted_by = interrupt_name();
  } catch (const std::exception& e) {
    bar.finish();
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  bar.finish();

  if (!a.quiet && !m->proto.output().quiet()) std::printf("%s", rep.to_table().c_str());
  const manifest::Output& out = m->proto.output();
  const std::string json_path = a.report_json.empty() ? out.report_json() : a.report_json;
  const std::string requests_path = a.requests_out.empty() ? out.requests_jsonl() : a.requests_out;
  auto write = [](const std::string& path, const char* what, auto&& text) {
    if (path.empty()) return true;
    try {
      write_file_atomically(path, text());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: the %s: %s\n", what, e.what());
      return false;
    }
    spdlog::info("{} written to {}", what, path);
    return true;
  };
  if (!write(json_path, "report", [&] { return json_file_text(rep.to_json()); }) ||
      !write(requests_path, "per-request lines",
             [&] { return engine::requests_jsonl(rep.records); }) ||
      !write(a.trace_out, "step timeline", [&] { return trace.chrome_json(); })) {
    return kExitInputError;
  }
  if (interrupted()) {
    std::fprintf(stderr, "bricks run: interrupted by %s; the report above is partial\n",
                 interrupt_name());
    return interrupt_exit_code();
  }
  return rep.failed > 0 ? kExitFailure : kExitOk;
}

void add_run_flags(CLI::App* cmd, RunArgs* args) {
  cmd->add_option("manifest", args->manifest, "Manifest file (.textproto or .json)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--threads", args->threads,
                  "Worker threads (overrides device.threads; 0 = all cores)");
  cmd->add_option("--model", args->model, "Model file to use instead of the manifest's")
      ->check(CLI::ExistingPath);
  cmd->add_option("--report-json", args->report_json,
                  "Write the report as JSON here (overrides output.report_json)");
  cmd->add_option("--requests-out", args->requests_out,
                  "Write one JSON line per ended request here: arrival, first token, end, "
                  "tokens, preemptions, finish, failure (overrides output.requests_jsonl)");
  cmd->add_option("--trace-out", args->trace_out,
                  "Write a timeline of every step (batch, preemptions, swaps, KV use) here in "
                  "the Chrome trace-event format that Perfetto opens; one track per instance");
  cmd->add_option("--requests", args->requests,
                  "Run only the first N requests of the workload (a quick check of a manifest)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet", args->quiet, "Do not print the report table");
  cmd->add_flag("--no-progress", args->no_progress, "Do not show the progress bar");
  add_plugin_trust_flag(cmd, args->allow_group_writable_plugins);
  add_slo_flags(cmd, args->slo);
  cmd->footer(
      "Exit code: 0 all requests finished, 1 some failed or the manifest is invalid, "
      "3 the manifest could not be read, 130/143 stopped by SIGINT/SIGTERM (after the "
      "current step, with a partial report; a second signal stops at once).");
}

const Command kRun{"run",
                   40,
                   "Run a manifest's workload on its model and bricks, then print the report "
                   "(TTFT, TPOT, ITL, E2E latency, throughput, SLO attainment, goodput, tenants, "
                   "preemptions, KV use, prefix hits)",
                   add_run_flags,
                   run_manifest_command,
                   Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
