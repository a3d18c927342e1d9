// `bricks bench MANIFEST... --rates 1,2,4`: runs every manifest's generated workload at
// every rate, prints a table, writes bench.json and SVG plots, and with --capacity finds
// each manifest's highest rate under a percentile SLO (Sarathi-Serve's capacity) and its
// DistServe goodput. With --endpoint it measures a running server from the client side
// instead (bench_endpoint.h).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_endpoint.h"
#include "bench_report.h"
#include "command.h"
#include "interrupt.h"
#include "manifest_input.h"
#include "output_file.h"
#include "plugin_scan.h"
#include "progress.h"
#include "runtime/run_manifest.h"
#include "slo_flags.h"
#include "workload/workload.h"

namespace bricks::cli {
namespace {

namespace fs = std::filesystem;

struct BenchArgs {
  std::vector<std::string> manifests;
  std::vector<double> rates;
  int num_requests = 0;
  double duration_s = 0;
  SloFlags slo;
  bool capacity = false;
  bool allow_group_writable_plugins = false;
  double tolerance = 0.1;
  double max_median_ttft = 2.0;
  int max_runs = 12;
  std::string out;
  double cdf_rate = 0;
  int threads = -1;
  std::string model;
  bool no_progress = false;
  EndpointOptions endpoint;
};

// --endpoint: each manifest's workload (at each rate, for a generator) sent to a running
// server; the client-side report of each run, and its JSON in --out/endpoint.json.
int bench_against_endpoint(const BenchArgs& a, const manifest::LoadedManifest& m,
                           const engine::SloSpec& slo) {
  std::vector<double> rates = a.rates;
  if (rates.empty()) rates.push_back(0);  // the manifest's own workload
  nlohmann::json runs = nlohmann::json::array();
  bool any_error = false;
  std::optional<engine::RateRetarget> retarget;
  ProgressBar bar("bench", !a.no_progress);
  for (double rate : rates) {
    manifest::LoadedManifest run = m;
    EndpointOptions o = a.endpoint;
    if (rate > 0) {
      try {
        if (!retarget) retarget.emplace(m.proto.workload(), m.base_dir());
        o.max_requests =
            retarget->apply(*run.proto.mutable_workload(), rate, a.num_requests, a.duration_s);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s: %s\n", m.file.c_str(), e.what());
        return kExitUsage;
      }
    } else if (a.num_requests > 0) {
      o.max_requests = static_cast<size_t>(a.num_requests);
    }
    const std::string head = rate > 0 ? fmt::format("{} req/s ", rate) : std::string("requests ");
    EndpointResult r;
    try {
      r = bench_endpoint(run, o, slo,
                         [&](size_t ended, size_t total) { bar.update(ended, total, head); });
    } catch (const std::exception& e) {
      bar.finish();
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitFailure;
    }
    bar.finish();
    std::printf("%s", r.report.to_table().c_str());
    std::printf(
        "server-added TTFT (client TTFT - server TTFT): median %.3f ms, P99 %.3f ms "
        "over %zu requests; %zu errors\n\n",
        r.added_ttft_s.median * 1e3, r.added_ttft_s.p99 * 1e3, r.added_ttft_s.count, r.errors);
    nlohmann::json j = r.report.to_json();
    j["rate"] = rate > 0 ? nlohmann::json(rate) : nlohmann::json(nullptr);
    j["added_ttft_s"] = {{"median", r.added_ttft_s.median},
                         {"p99", r.added_ttft_s.p99},
                         {"count", r.added_ttft_s.count}};
    j["errors"] = r.errors;
    runs.push_back(std::move(j));
    any_error = any_error || r.errors > 0;
  }
  if (!a.out.empty()) {
    const fs::path json = fs::path(a.out) / "endpoint.json";
    try {
      write_file_atomically(json, json_file_text(runs));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitInputError;
    }
    std::fprintf(stderr, "wrote %s\n", json.c_str());
  }
  return any_error ? kExitFailure : kExitOk;
}

// Thrown by Bench::at once a signal stopped a run: the runs so far are kept and reported.
struct Interrupted {};

// Runs manifests at rates, each (manifest, rate) once, with one progress bar.
class Bench {
 public:
  // `retargets[m]` sets manifest m's workload to a rate.
  Bench(const BenchArgs& a, std::vector<manifest::LoadedManifest> ms,
        std::vector<engine::RateRetarget> retargets, BenchResults& out)
      : a_(a),
        ms_(std::move(ms)),
        retargets_(std::move(retargets)),
        out_(out),
        bar_("bench", !a.no_progress) {
    ro_.threads = a.threads;
    ro_.model = a.model;
    ro_.allow_group_writable_plugins = a.allow_group_writable_plugins;
  }

  // The report of manifest `m` at `rate`, run now unless it ran before.
  const engine::Report& at(size_t m, double rate, bool swept) {
    const auto key = std::make_pair(m, rate);
    auto it = done_.find(key);
    if (it != done_.end()) {
      if (swept) out_.points[it->second].swept = true;
      return out_.points[it->second].report;
    }
    manifest::LoadedManifest run = ms_[m];
    const size_t keep =
        retargets_[m].apply(*run.proto.mutable_workload(), rate, a_.num_requests, a_.duration_s);
    ++runs_;
    char head[160];
    std::snprintf(head, sizeof head, "run %d: %s @ %g req/s ", runs_, out_.labels[m].c_str(), rate);
    BenchPoint p;
    p.manifest = m;
    p.rate = rate;
    p.swept = swept;
    engine::RunOptions ro;
    ro.progress = [&](size_t ended, size_t total, double) { bar_.update(ended, total, head); };
    ro.max_requests = keep;
    ro.stop = [] { return interrupted() != 0; };
    p.report = engine::run_manifest(run, ro_, out_.slos[m], ro);
    p.report.interrupted_by = interrupt_name();
    out_.points.push_back(std::move(p));
    done_[key] = out_.points.size() - 1;
    if (interrupted()) throw Interrupted{};
    return out_.points.back().report;
  }
  void finish() { bar_.finish(); }
  size_t size() const { return ms_.size(); }

 private:
  const BenchArgs& a_;
  std::vector<manifest::LoadedManifest> ms_;
  std::vector<engine::RateRetarget> retargets_;
  BenchResults& out_;
  ProgressBar bar_;
  engine::RuntimeOptions ro_;
  std::map<std::pair<size_t, double>, size_t> done_;
  int runs_ = 0;
};

int bench(const BenchArgs& a) {
  if (!a.endpoint.url.empty()) {
    if (a.manifests.size() != 1 || a.capacity) {
      std::fprintf(stderr,
                   "error: --endpoint takes one manifest (its workload is replayed) "
                   "and no --capacity\n");
      return kExitUsage;
    }
    auto m = load_manifest_reporting(a.manifests[0]);
    if (!m) return kExitInputError;
    const std::optional<engine::SloSpec> slo = a.slo.checked(m->proto, a.manifests[0]);
    if (!slo) return kExitFailure;
    return bench_against_endpoint(a, *m, *slo);
  }
  if (a.rates.empty()) {
    std::fprintf(stderr,
                 "error: --rates is required (or --endpoint URL to measure a running "
                 "server)\n");
    return kExitUsage;
  }
  BenchResults res;
  std::vector<manifest::LoadedManifest> ms;
  std::vector<engine::RateRetarget> retargets;
  for (const std::string& file : a.manifests) {
    auto m = load_manifest_reporting(file);
    if (!m) return kExitInputError;
    if (m->proto.workload().trace().empty() && !m->proto.workload().has_generator()) {
      std::fprintf(stderr,
                   "error: %s: bench sets the request rate of the workload, and this manifest "
                   "has none; give it workload.generator { ... } or workload.trace\n",
                   file.c_str());
      return kExitUsage;
    }
    // A trace is read here, once; one without a rate stops before the first run.
    try {
      retargets.emplace_back(m->proto.workload(), m->base_dir());
      manifest::Workload probe = m->proto.workload();
      retargets.back().apply(probe, a.rates.front(), a.num_requests, a.duration_s);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s: %s\n", file.c_str(), e.what());
      return kExitUsage;
    }
    res.labels.push_back(manifest_label(*m));
    res.files.push_back(file);
    const std::optional<engine::SloSpec> slo = a.slo.checked(m->proto, file);
    if (!slo) return kExitFailure;
    res.slos.push_back(*slo);
    ms.push_back(std::move(*m));
  }
  if (a.capacity) {
    for (size_t i = 0; i < ms.size(); ++i) {
      if (!res.slos[i].any()) {
        std::fprintf(stderr,
                     "error: %s: --capacity needs latency targets; give --slo-ttft, --slo-tpot "
                     "or --slo-tbt (or output.slo in the manifest)\n",
                     res.files[i].c_str());
        return kExitUsage;
      }
    }
  }
  res.cdf_rate = a.cdf_rate > 0 ? a.cdf_rate : a.rates.back();
  res.capacity_median_ttft = a.max_median_ttft;

  Bench b(a, std::move(ms), std::move(retargets), res);
  InterruptPolling polling;
  try {
    for (size_t m = 0; m < b.size(); ++m) {
      for (double rate : a.rates) b.at(m, rate, true);
      if (res.cdf_rate != a.rates.back()) b.at(m, res.cdf_rate, false);
    }
    if (a.capacity) {
      engine::RateSearchOptions so;
      so.start_rate = a.rates.front();
      so.rel_tol = a.tolerance;
      so.max_evals = a.max_runs;
      for (size_t m = 0; m < b.size(); ++m) {
        BenchCapacity c;
        c.manifest = m;
        const engine::SloSpec& slo = res.slos[m];
        c.has_capacity = true;
        c.capacity = engine::find_max_rate(
            [&](double r) {
              const engine::Report& rep = b.at(m, r, false);
              return rep.slo_result.percentile_ok &&
                     (a.max_median_ttft <= 0 || rep.ttft.median <= a.max_median_ttft);
            },
            so);
        // Without a TTFT target a rate past capacity still "meets" the SLO: its requests
        // wait in the queue as long as it takes and then decode at full speed.
        c.has_goodput = slo.ttft_s > 0;
        if (c.has_goodput) {
          c.goodput = engine::find_max_rate(
              [&](double r) { return b.at(m, r, false).slo_result.attained; }, so);
        }
        res.capacity.push_back(std::move(c));
      }
    }
  } catch (const Interrupted&) {
    // Reported below: the table and files hold the runs so far, the last one partial.
  } catch (const std::exception& e) {
    b.finish();
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  b.finish();

  std::printf("%s", bench_table(res).c_str());
  if (!a.out.empty()) {
    const fs::path json = fs::path(a.out) / "bench.json";
    try {
      write_file_atomically(json, json_file_text(bench_json(res)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s; check that --out is a writable directory\n", e.what());
      return kExitInputError;
    }
    try {
      const auto plots = write_bench_plots(res, a.out);
      std::fprintf(stderr, "wrote %s and %zu plots in %s\n", json.c_str(), plots.size(),
                   a.out.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitInputError;
    }
  }
  if (interrupted()) {
    std::fprintf(stderr,
                 "bricks bench: interrupted by %s; the last run is partial and the "
                 "runs after it did not start\n",
                 interrupt_name());
    return interrupt_exit_code();
  }
  for (const BenchPoint& p : res.points) {
    if (p.report.failed > 0) return kExitFailure;
  }
  return kExitOk;
}

const Command kBench{
    "bench", 45,
    [](CLI::App& app, int& exit_code) {
      auto args = std::make_shared<BenchArgs>();
      auto* cmd = app.add_subcommand(
          "bench",
          "Run each manifest's workload (generated, or a trace replayed faster or slower) at "
          "each request rate and compare them: "
          "latency (TTFT, TPOT, ITL, E2E), throughput, SLO attainment and effective throughput; "
          "with --capacity, the highest rate that keeps the SLO and the goodput");
      cmd->add_option("manifests", args->manifests,
                      "Manifests to compare (each with workload.generator or workload.trace)")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->add_option("--rates", args->rates,
                      "Request rates to run, requests per second, comma-separated (e.g. 1,2,4,8); "
                      "each replaces workload.generator.rate (tenants' own rates are scaled to sum "
                      "to it; conversations start at rate / turns), or sets a trace's "
                      "trace_time_scale so that its rows arrive at this mean rate (their bursts "
                      "kept); required unless --endpoint")
          ->delimiter(',')
          ->check(CLI::PositiveNumber);
      auto* n = cmd->add_option("--num-requests", args->num_requests,
                                "Requests per run (conversations: enough for this many turns; a "
                                "trace: its first N rows); default: the manifest's count")
                    ->check(CLI::PositiveNumber);
      cmd->add_option("--duration-s", args->duration_s,
                      "Seconds of arrivals per run instead of a request count (rate x duration "
                      "requests on average; generators only)")
          ->check(CLI::PositiveNumber)
          ->excludes(n);
      add_slo_flags(cmd, args->slo);
      cmd->add_flag(
          "--capacity", args->capacity,
          "Per manifest, find the highest rate whose P<percentile> TTFT/TPOT/TBT stay "
          "within the SLO (doubling from the first rate, then bisection), and the goodput: "
          "the highest rate at which >= attainment of requests meet TTFT and TPOT (needs a TTFT "
          "target)");
      cmd->add_option("--tolerance", args->tolerance,
                      "Relative tolerance of the capacity search (default 0.1)")
          ->check(CLI::Range(0.001, 1.0));
      cmd->add_option("--max-median-ttft", args->max_median_ttft,
                      "Capacity also needs the median TTFT within this many seconds (default 2; "
                      "0 = off): as Sarathi-Serve bounds the median scheduling delay, so that a "
                      "rate whose queue keeps growing does not pass as one long batch")
          ->check(CLI::NonNegativeNumber);
      cmd->add_option("--max-runs", args->max_runs,
                      "Runs per search at most, for each of capacity and goodput (default 12)")
          ->check(CLI::Range(1, 100));
      cmd->add_option("--out", args->out,
                      "Directory for bench.json and the plots latency_ttft.svg, latency_tpot.svg, "
                      "cdf_ttft.svg, cdf_tpot.svg, capacity.svg");
      cmd->add_option("--cdf-rate", args->cdf_rate,
                      "Rate whose TTFT and TPOT CDFs are plotted (default: the last of --rates)")
          ->check(CLI::PositiveNumber);
      cmd->add_option("--threads", args->threads,
                      "Worker threads (overrides device.threads; 0 = all cores)");
      cmd->add_option("--model", args->model, "Model file to use instead of the manifests'")
          ->check(CLI::ExistingPath);
      cmd->add_flag("--no-progress", args->no_progress, "Do not show the progress bar");
      add_plugin_trust_flag(cmd, args->allow_group_writable_plugins);
      cmd->add_option("--endpoint", args->endpoint.url,
                      "Measure a running server instead (http://HOST:PORT, e.g. bricks serve): "
                      "the manifest's workload is sent with its arrival times as streamed "
                      "/v1/completions requests, and TTFT, TPOT, ITL and E2E are measured on "
                      "the client side");
      cmd->add_option("--endpoint-model", args->endpoint.model,
                      "Model id to request (default: the first of GET /v1/models)");
      cmd->add_option("--max-concurrency", args->endpoint.max_concurrency,
                      "With --endpoint: requests in flight at most; later arrivals wait")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
      cmd->add_option("--api-key", args->endpoint.api_key,
                      "With --endpoint: the server's API key (default: $BRICKS_API_KEY)");
      cmd->footer(
          "Exit code: 0 every request of every run finished, 1 a run failed requests or "
          "could not start, 2 bad command line or a manifest without a generator, "
          "3 a file could not be read or written.");
      cmd->callback([args, &exit_code] {
        if (args->endpoint.api_key.empty()) {
          if (const char* k = std::getenv("BRICKS_API_KEY"); k != nullptr)
            args->endpoint.api_key = k;
        }
        args->endpoint.model_file = args->model;
        exit_code = bench(*args);
      });
    },
    Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
