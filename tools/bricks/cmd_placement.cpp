// `bricks placement MANIFEST --slo-ttft S --slo-tpot S --gpus N`: DistServe's placement
// search for the manifest's model and GPU preset (device.kind "sim"): every split of the GPU
// budget into prefill and decode instances (counts and tensor parallelism), each one's
// goodput found by simulation, and the best colocated cluster for the same budget. With
// --topology FILE the cluster is that file's nodes and NICs, and every placement is laid
// out NIC-aware and NIC-oblivious (placement_topology.h).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster/placement.h"
#include "command.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "output_file.h"
#include "placement_topology.h"
#include "plugin_scan.h"
#include "runtime/cluster_runtime.h"
#include "runtime/runtime.h"

namespace bricks::cli {
namespace {

struct PlacementArgs {
  std::string manifest;
  double slo_ttft = 0, slo_tpot = 0, attainment = 0;
  int gpus = 8;
  std::vector<int> tp{1, 2, 4, 8};
  std::vector<int> pp{1};
  std::string topology;
  int requests_per_gpu = 1000;
  double tolerance = 0.03;
  std::string colocated_scheduler = "sarathi";
  bool no_colocated = false;
  bool no_disaggregated = false;
  bool allow_group_writable_plugins = false;
  std::string json;
};

std::string row(const engine::PlacementResult& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-34s %4d %10.3f %10.3f %5d  %s\n",
                r.placement.describe().c_str(), r.placement.gpus(), r.goodput_rps, r.per_gpu,
                r.runs, r.error.empty() ? (r.converged ? "" : "not converged") : r.error.c_str());
  return buf;
}

nlohmann::json to_json(const engine::PlacementResult& r) {
  return {{"placement", r.placement.describe()},
          {"disaggregated", r.placement.disaggregated},
          {"prefill_instances", r.placement.prefill_instances},
          {"prefill_tp", r.placement.prefill_tp},
          {"decode_instances", r.placement.disaggregated ? r.placement.decode_instances : 0},
          {"decode_tp", r.placement.disaggregated ? r.placement.decode_tp : 0},
          {"gpus", r.placement.gpus()},
          {"goodput_rps", r.goodput_rps},
          {"goodput_per_gpu", r.per_gpu},
          {"converged", r.converged},
          {"runs", r.runs},
          {"error", r.error}};
}

int run_placement(const PlacementArgs& a) {
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;

  engine::SloSpec slo = engine::SloSpec::from(m->proto.output().slo());
  if (a.slo_ttft > 0) slo.ttft_s = a.slo_ttft;
  if (a.slo_tpot > 0) slo.tpot_s = a.slo_tpot;
  if (a.attainment > 0) slo.attainment = a.attainment;
  if (slo.ttft_s <= 0 || slo.tpot_s <= 0) {
    std::fprintf(stderr, "error: give --slo-ttft and --slo-tpot (or output.slo in the manifest)\n");
    return kExitUsage;
  }
  engine::PlacementOptions po;
  po.gpus = a.gpus;
  po.tp_choices.assign(a.tp.begin(), a.tp.end());
  po.pp_choices.assign(a.pp.begin(), a.pp.end());
  po.search.rel_tol = a.tolerance;
  if (!a.topology.empty()) {
    TopologyPlacementRun run;
    run.topology = a.topology;
    run.json = a.json;
    run.slo = slo;
    run.options = po;
    run.requests_per_gpu = a.requests_per_gpu;
    run.allow_group_writable_plugins = a.allow_group_writable_plugins;
    return run_topology_placement(*m, run);
  }
  if (po.pp_choices != std::vector<int32_t>{1}) {
    std::fprintf(stderr, "error: --pp needs --topology (pipeline stages span the nodes of one)\n");
    return kExitUsage;
  }
  po.colocated = !a.no_colocated;
  po.disaggregated = !a.no_disaggregated;
  if (!po.colocated && !po.disaggregated) {
    std::fprintf(stderr, "error: --no-colocated and --no-disaggregated leave nothing to search\n");
    return kExitUsage;
  }

  std::unique_ptr<engine::ClusterProbe> probe;
  try {
    probe = std::make_unique<engine::ClusterProbe>(
        *m, slo, a.requests_per_gpu, a.colocated_scheduler, a.allow_group_writable_plugins);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  std::fprintf(stderr,
               "placement search: %s on %s, %d GPUs, TTFT <= %g s, TPOT <= %g s, "
               "%.0f%% attainment, %d requests per GPU and run\n",
               m->proto.device().sim_model().c_str(), m->proto.device().gpu().c_str(), a.gpus,
               slo.ttft_s, slo.tpot_s, slo.attainment * 100, a.requests_per_gpu);
  const engine::PlacementSearch s = engine::search_placements(
      po, [&](const engine::Placement& p, double rate) { return (*probe)(p, rate); },
      [](const engine::PlacementResult& r, size_t done, size_t total) {
        std::fprintf(stderr, "  [%zu/%zu] %-34s %8.3f req/s  %7.3f per GPU  (%d runs)%s%s\n", done,
                     total, r.placement.describe().c_str(), r.goodput_rps, r.per_gpu, r.runs,
                     r.error.empty() ? "" : "  skipped: ", r.error.c_str());
      });

  std::printf(
      "Placements of %s on up to %d x %s (TTFT <= %g s, TPOT <= %g s, %.0f%% of "
      "requests)\n\n",
      m->proto.device().sim_model().c_str(), a.gpus, m->proto.device().gpu().c_str(), slo.ttft_s,
      slo.tpot_s, slo.attainment * 100);
  std::printf("  %-34s %4s %10s %10s %5s\n", "placement", "GPUs", "goodput", "per GPU", "runs");
  for (const engine::PlacementResult& r : s.results) std::printf("%s", row(r).c_str());
  std::printf("\n");
  const engine::PlacementResult* bd =
      s.best_disaggregated >= 0 ? &s.results[s.best_disaggregated] : nullptr;
  const engine::PlacementResult* bc =
      s.best_colocated >= 0 ? &s.results[s.best_colocated] : nullptr;
  if (po.disaggregated && bd != nullptr) {
    std::printf("best disaggregated: %s: %.3f req/s, %.3f req/s per GPU\n",
                bd->placement.describe().c_str(), bd->goodput_rps, bd->per_gpu);
  } else if (po.disaggregated) {
    std::printf("best disaggregated: none met the SLO at any rate tried\n");
  }
  if (po.colocated) {
    if (bc != nullptr) {
      std::printf("best colocated (%s): %s: %.3f req/s, %.3f req/s per GPU\n",
                  a.colocated_scheduler.c_str(), bc->placement.describe().c_str(), bc->goodput_rps,
                  bc->per_gpu);
    } else {
      std::printf("best colocated (%s): none met the SLO at any rate tried\n",
                  a.colocated_scheduler.c_str());
    }
    if (bd != nullptr && bc != nullptr && bc->per_gpu > 0) {
      std::printf("disaggregated / colocated goodput per GPU: %.2fx\n", bd->per_gpu / bc->per_gpu);
    }
  }
  if (!a.json.empty()) {
    nlohmann::json j;
    j["model"] = m->proto.device().sim_model();
    j["gpu"] = m->proto.device().gpu();
    j["gpus"] = a.gpus;
    j["slo"] = {{"ttft_s", slo.ttft_s}, {"tpot_s", slo.tpot_s}, {"attainment", slo.attainment}};
    j["requests_per_gpu"] = a.requests_per_gpu;
    j["results"] = nlohmann::json::array();
    for (const engine::PlacementResult& r : s.results) j["results"].push_back(to_json(r));
    if (bd != nullptr) j["best_disaggregated"] = to_json(*bd);
    if (bc != nullptr) j["best_colocated"] = to_json(*bc);
    try {
      write_file_atomically(a.json, json_file_text(j));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitInputError;
    }
  }
  return (po.disaggregated ? bd : bc) != nullptr ? kExitOk : kExitFailure;
}

void add_placement_flags(CLI::App* cmd, PlacementArgs* args) {
  cmd->add_option(
         "manifest", args->manifest,
         "Manifest with device.kind \"sim\" (gpu, sim_model) and a workload generator or trace")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--slo-ttft", args->slo_ttft, "TTFT target in seconds (default: output.slo)");
  cmd->add_option("--slo-tpot", args->slo_tpot, "TPOT target in seconds (default: output.slo)");
  cmd->add_option("--slo-attainment", args->attainment,
                  "Share of requests that must meet both (default: output.slo, else 0.9)")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--gpus", args->gpus, "GPU budget")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  cmd->add_option("--tp", args->tp, "Tensor-parallel degrees to try")
      ->delimiter(',')
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--topology", args->topology,
                  "A cluster's nodes, GPUs and NICs (manifests/topologies/*.textproto): search "
                  "the disaggregated placements that use all its GPUs, each laid out NIC-aware "
                  "(KV and pipeline traffic on the fastest links, stages sized to their links) "
                  "and NIC-oblivious (nodes in file order), KV moving over the NICs; replaces "
                  "--gpus and device.gpu, ignores --no-colocated/--no-disaggregated")
      ->check(CLI::ExistingFile);
  cmd->add_option("--pp", args->pp,
                  "Pipeline stages per instance to try, each stage a tensor-parallel group on "
                  "one node (with --topology)")
      ->delimiter(',')
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--requests-per-gpu", args->requests_per_gpu,
                  "Requests per simulated run and GPU of the placement (a run of a larger "
                  "cluster replays more requests, so that its queues build up as long); short "
                  "runs end before the queues reach a steady state and overstate goodput")
      ->check(CLI::Range(5, 1000000))
      ->capture_default_str();
  cmd->add_option("--tolerance", args->tolerance, "Relative tolerance of each rate search")
      ->check(CLI::Range(0.001, 0.5))
      ->capture_default_str();
  cmd->add_option("--colocated-scheduler", args->colocated_scheduler,
                  "Scheduler of the colocated instances when the manifest's is disagg")
      ->capture_default_str();
  cmd->add_flag("--no-colocated", args->no_colocated, "Search disaggregated placements only");
  add_plugin_trust_flag(cmd, args->allow_group_writable_plugins);
  cmd->add_flag("--no-disaggregated", args->no_disaggregated,
                "Search colocated placements only (e.g. to compare colocated schedulers)");
  cmd->add_option("--json", args->json, "Also write the results as JSON here");
  cmd->footer(
      "Exit code: 0 a disaggregated placement (with --no-disaggregated: a colocated "
      "one; with --topology: a NIC-aware one) met the SLO, 1 none did or the manifest is "
      "invalid, 2 bad command line, 3 the manifest or topology could not be read.");
}

const Command kPlacement{"placement", 55,
                         "Search DistServe placements (prefill/decode instance counts and tensor "
                         "parallelism) for the best goodput per GPU under a TTFT/TPOT SLO, by "
                         "simulation on the manifest's sim device; also the best colocated "
                         "cluster, or with --topology the NIC-aware layout on a cluster's nodes "
                         "against a NIC-oblivious one",
                         add_placement_flags, run_placement};

}  // namespace
}  // namespace bricks::cli
