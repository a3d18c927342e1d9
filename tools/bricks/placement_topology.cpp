#include "placement_topology.h"

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "cluster/topology.h"
#include "cluster/topology_layout.h"
#include "command.h"
#include "output_file.h"
#include "runtime/cluster_runtime.h"
#include "runtime/topology_loads.h"

namespace bricks::cli {
namespace {

// The layouts of every placement tried, each made once.
class LayoutCache {
 public:
  LayoutCache(const engine::Topology& t, const engine::TopologyLoads& loads, bool nic_aware)
      : t_(t), loads_(loads), nic_aware_(nic_aware) {}

  // The layout of `p`; throws what laying it out threw (every time it is asked).
  const engine::ClusterLayout& get(const engine::Placement& p) {
    auto it = made_.find(p.describe());
    if (it == made_.end()) {
      Made m;
      try {
        const engine::LayoutInputs in = loads_.inputs(p);
        m.layout =
            nic_aware_ ? engine::nic_aware_layout(t_, p, in) : engine::oblivious_layout(t_, p, in);
      } catch (const std::exception& e) {
        m.error = e.what();
      }
      it = made_.emplace(p.describe(), std::move(m)).first;
    }
    if (!it->second.layout) throw std::runtime_error(it->second.error);
    return *it->second.layout;
  }

 private:
  struct Made {
    std::optional<engine::ClusterLayout> layout;
    std::string error;
  };
  const engine::Topology& t_;
  const engine::TopologyLoads& loads_;
  bool nic_aware_;
  std::map<std::string, Made> made_;
};

nlohmann::json layout_json(const engine::Topology& t, const engine::ClusterLayout& l) {
  nlohmann::json out = nlohmann::json::array();
  int32_t numbers[3] = {0, 0, 0};
  size_t prefill_count = 0;  // decode instances are numbered after the prefill ones
  for (const engine::InstanceLayout& il : l.instances) {
    prefill_count += il.role == engine::InstanceRole::kPrefill ? 1 : 0;
  }
  for (size_t i = 0; i < l.instances.size(); ++i) {
    const engine::InstanceLayout& il = l.instances[i];
    nlohmann::json stages = nlohmann::json::array(), links = nlohmann::json::array();
    for (const engine::StageSlot& s : il.stages) {
      stages.push_back(
          {{"node", t.nodes[s.node].name}, {"first_layer", s.first_layer}, {"layers", s.layers}});
    }
    for (const engine::Link& k : il.links) {
      links.push_back({{"kind", engine::link_kind_name(k.kind)},
                       {"gb_per_s", k.bytes_per_s / 1e9},
                       {"latency_us", k.latency_s * 1e6}});
    }
    nlohmann::json targets = nlohmann::json::array(), kinds = nlohmann::json::array();
    for (size_t j : il.kv_targets) targets.push_back(j - prefill_count);
    for (engine::LinkKind k : l.kv_link_kinds(t, i)) kinds.push_back(engine::link_kind_name(k));
    out.push_back({{"role", engine::instance_role_name(il.role)},
                   {"index", numbers[static_cast<int>(il.role)]++},
                   {"tp", il.tp},
                   {"stages", stages},
                   {"links", links},
                   {"kv_to_decode", targets},
                   {"kv_over", kinds}});
  }
  return out;
}

nlohmann::json result_json(const engine::PlacementResult& r) {
  return {{"goodput_rps", r.goodput_rps},
          {"goodput_per_gpu", r.per_gpu},
          {"converged", r.converged},
          {"runs", r.runs},
          {"error", r.error}};
}

std::string ratio_text(double a, double b) {
  if (!(a > 0) || !(b > 0)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

void print_best(const char* label, const engine::PlacementSearch& s, const engine::Topology& t,
                LayoutCache& layouts) {
  if (s.best_disaggregated < 0) {
    std::printf("best %s: none met the SLO at any rate tried\n", label);
    return;
  }
  const engine::PlacementResult& r = s.results[s.best_disaggregated];
  const engine::ClusterLayout& l = layouts.get(r.placement);
  std::printf("best %s: %s: %.3f req/s (%.3f per GPU); traffic %.2f ms per request\n%s", label,
              r.placement.describe().c_str(), r.goodput_rps, r.per_gpu, l.traffic_cost_s * 1e3,
              l.describe(t).c_str());
}

}  // namespace

int run_topology_placement(const manifest::LoadedManifest& m, const TopologyPlacementRun& run) {
  engine::Topology t;
  try {
    t = engine::load_topology(run.topology);
  } catch (const engine::TopologyError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
  std::unique_ptr<engine::TopologyLoads> loads;
  std::unique_ptr<engine::ClusterProbe> probe;
  try {
    loads = std::make_unique<engine::TopologyLoads>(m, t);
    probe = std::make_unique<engine::ClusterProbe>(m, run.slo, run.requests_per_gpu, "sarathi",
                                                   run.allow_group_writable_plugins);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  engine::PlacementOptions po = run.options;
  po.gpus = t.gpus();
  po.disaggregated = true;
  po.colocated = false;
  po.use_every_gpu = true;
  const std::string model = m.proto.device().sim_model();
  std::fprintf(stderr,
               "placement search on topology %s (%s): %s, TTFT <= %g s, TPOT <= %g s, %.0f%% "
               "attainment, %d requests per GPU and run; mean request %.0f prompt + %.0f "
               "output tokens\n",
               t.name.c_str(), t.describe().c_str(), model.c_str(), run.slo.ttft_s, run.slo.tpot_s,
               run.slo.attainment * 100, run.requests_per_gpu, loads->mean_prompt_tokens(),
               loads->mean_output_tokens());
  if (engine::enumerate_placements(po).empty()) {
    std::fprintf(stderr,
                 "error: no disaggregated placement with tp in --tp and pp in --pp uses all %d "
                 "GPUs of %s; add choices to --tp or --pp\n",
                 po.gpus, t.name.c_str());
    return kExitUsage;
  }

  LayoutCache aware_layouts(t, *loads, true), oblivious_layouts(t, *loads, false);
  auto search = [&](LayoutCache& layouts, const char* label) {
    return engine::search_placements(
        po,
        [&](const engine::Placement& p, double rate) {
          return (*probe)(p, rate, t, layouts.get(p));
        },
        [label](const engine::PlacementResult& r, size_t done, size_t total) {
          std::fprintf(stderr, "  [%s %zu/%zu] %-36s %8.3f req/s  (%d runs)%s%s\n", label, done,
                       total, r.placement.describe().c_str(), r.goodput_rps, r.runs,
                       r.error.empty() ? "" : "  skipped: ", r.error.c_str());
        });
  };
  const engine::PlacementSearch aware = search(aware_layouts, "NIC-aware");
  const engine::PlacementSearch oblivious = search(oblivious_layouts, "NIC-oblivious");

  std::printf("Placements of %s on %s: %s\n(TTFT <= %g s, TPOT <= %g s, %.0f%% of requests)\n\n",
              model.c_str(), t.name.c_str(), t.describe().c_str(), run.slo.ttft_s, run.slo.tpot_s,
              run.slo.attainment * 100);
  std::printf("  %-40s %4s %10s %10s %9s  %s\n", "placement", "GPUs", "NIC-aware", "oblivious",
              "aware/obl", "runs");
  for (size_t i = 0; i < aware.results.size(); ++i) {
    const engine::PlacementResult& a = aware.results[i];
    const engine::PlacementResult& o = oblivious.results[i];
    const std::string note = !a.error.empty() ? a.error : (!o.error.empty() ? o.error : "");
    std::printf("  %-40s %4d %10.3f %10.3f %9s  %d+%d%s%s\n", a.placement.describe().c_str(),
                a.placement.gpus(), a.goodput_rps, o.goodput_rps,
                ratio_text(a.goodput_rps, o.goodput_rps).c_str(), a.runs, o.runs,
                note.empty() ? "" : "  ", note.c_str());
  }
  std::printf("\n");
  print_best("NIC-aware", aware, t, aware_layouts);
  print_best("NIC-oblivious", oblivious, t, oblivious_layouts);
  const double best_aware =
      aware.best_disaggregated >= 0 ? aware.results[aware.best_disaggregated].goodput_rps : 0;
  const double best_oblivious = oblivious.best_disaggregated >= 0
                                    ? oblivious.results[oblivious.best_disaggregated].goodput_rps
                                    : 0;
  std::printf("NIC-aware / NIC-oblivious goodput: %s\n",
              ratio_text(best_aware, best_oblivious).c_str());

  if (!run.json.empty()) {
    nlohmann::json j;
    j["model"] = model;
    j["topology"] = {
        {"name", t.name}, {"file", t.file}, {"gpus", t.gpus()}, {"describe", t.describe()}};
    j["slo"] = {
        {"ttft_s", run.slo.ttft_s}, {"tpot_s", run.slo.tpot_s}, {"attainment", run.slo.attainment}};
    j["requests_per_gpu"] = run.requests_per_gpu;
    j["results"] = nlohmann::json::array();
    for (size_t i = 0; i < aware.results.size(); ++i) {
      const engine::Placement& p = aware.results[i].placement;
      j["results"].push_back({{"placement", p.describe()},
                              {"prefill_instances", p.prefill_instances},
                              {"prefill_tp", p.prefill_tp},
                              {"prefill_pp", p.prefill_pp},
                              {"decode_instances", p.decode_instances},
                              {"decode_tp", p.decode_tp},
                              {"decode_pp", p.decode_pp},
                              {"gpus", p.gpus()},
                              {"nic_aware", result_json(aware.results[i])},
                              {"nic_oblivious", result_json(oblivious.results[i])}});
    }
    auto best = [&](const engine::PlacementSearch& s, LayoutCache& layouts) -> nlohmann::json {
      if (s.best_disaggregated < 0) return nullptr;
      const engine::PlacementResult& r = s.results[s.best_disaggregated];
      const engine::ClusterLayout& l = layouts.get(r.placement);
      nlohmann::json b = result_json(r);
      b["placement"] = r.placement.describe();
      b["traffic_s_per_request"] = l.traffic_cost_s;
      b["layout"] = layout_json(t, l);
      return b;
    };
    j["best_nic_aware"] = best(aware, aware_layouts);
    j["best_nic_oblivious"] = best(oblivious, oblivious_layouts);
    try {
      write_file_atomically(run.json, json_file_text(j));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitInputError;
    }
  }
  return aware.best_disaggregated >= 0 ? kExitOk : kExitFailure;
}

}  // namespace bricks::cli
