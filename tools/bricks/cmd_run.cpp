// `bricks run MANIFEST`: loads the model, wires the bricks, runs the manifest's workload
// and prints the report.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "command.h"
#include "engine/report.h"
#include "engine/runtime.h"
#include "engine/workload.h"
#include "manifest/manifest.h"
#include "progress.h"

namespace bricks::cli {
namespace {

struct RunArgs {
  std::string manifest;
  int threads = -1;
  std::string model;
  std::string report_json;
  bool quiet = false;
  bool no_progress = false;
};

int run(const RunArgs& a) {
  std::vector<manifest::Diagnostic> diags;
  auto m = manifest::load_manifest(a.manifest, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.format().c_str());
  if (!m) return kExitInputError;

  engine::RuntimeOptions ro;
  ro.threads = a.threads;
  ro.model = a.model;
  std::unique_ptr<engine::Runtime> rt;
  std::vector<engine::RequestSpec> work;
  try {
    rt = engine::Runtime::create(*m, ro);
    work = engine::make_workload(m->proto.workload(), *rt->tokenizer(),
                                 m->file.parent_path());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  engine::Engine& eng = rt->engine();
  for (auto& spec : work) eng.submit(std::move(spec));

  ProgressBar bar("run", !a.no_progress);
  eng.run_to_completion([&](const engine::Engine& e) {
    const double t = e.now();
    char suffix[96];
    std::snprintf(suffix, sizeof suffix, "requests  %.1f s  %lld steps", t,
                  static_cast<long long>(e.stats().steps));
    bar.update(e.ended().size(), e.num_submitted(), suffix);
  });
  bar.finish();

  engine::Report rep = engine::Report::from(eng);
  rep.name = m->proto.name().empty() ? m->file.filename().string() : m->proto.name();
  rep.bricks = rt->bricks_summary();
  rep.device = rt->device_summary();
  if (!a.quiet && !m->proto.output().quiet()) std::printf("%s", rep.to_table().c_str());
  std::string json_path = a.report_json.empty() ? m->proto.output().report_json() : a.report_json;
  if (!json_path.empty()) {
    const std::filesystem::path parent = std::filesystem::path(json_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    std::ofstream out(json_path);
    if (!out) {
      std::fprintf(stderr, "error: cannot write the report to %s\n", json_path.c_str());
      return kExitInputError;
    }
    out << rep.to_json().dump(2) << "\n";
    spdlog::info("report written to {}", json_path);
  }
  return rep.failed > 0 ? kExitFailure : kExitOk;
}

const Command kRun{"run", 40, [](CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run a manifest's workload on its model and bricks, then print the report "
             "(TTFT, TPOT, ITL, E2E latency, throughput, preemptions, KV use, prefix hits)");
  cmd->add_option("manifest", args->manifest, "Manifest file (.textproto or .json)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--threads", args->threads, "Worker threads (overrides device.threads; 0 = all cores)");
  cmd->add_option("--model", args->model, "Model file to use instead of the manifest's")
      ->check(CLI::ExistingPath);
  cmd->add_option("--report-json", args->report_json,
                  "Write the report as JSON here (overrides output.report_json)");
  cmd->add_flag("--quiet", args->quiet, "Do not print the report table");
  cmd->add_flag("--no-progress", args->no_progress, "Do not show the progress bar");
  cmd->footer("Exit code: 0 all requests finished, 1 some failed or the manifest is invalid, "
              "3 the manifest could not be read.");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}};

}  // namespace
}  // namespace bricks::cli
