#include "cluster/topology_layout.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <tuple>

#include "cluster/stage_partition.h"
#include "sim/pipeline.h"

namespace bricks::engine {

namespace {

// How far above its equal share of requests (1 / decode instances) sending KV over the
// best links only may load a decode instance.
constexpr double kMaxDecodeShare = 1.25;

// An instance while its stages find nodes.
struct Draft {
  InstanceRole role = InstanceRole::kPrefill;
  int32_t tp = 1;
  int32_t cell = 0;
  std::vector<int32_t> nodes;  // per stage; -1 while unplaced
};

struct StageRef {
  size_t instance = 0;
  int32_t stage = 0;
};

// The shape being laid out and what its traffic weighs.
struct LayoutWork {
  const Topology& t;
  const LayoutInputs& in;
  std::vector<std::vector<Link>> links;  // node x node
  int32_t prefill = 0, decode = 0;       // instances
  int32_t decode_per_cell = 0;
  std::vector<Draft> drafts;

  const RoleLoad& load(const Draft& d) const {
    return d.role == InstanceRole::kPrefill ? in.prefill : in.decode;
  }
  int32_t count(const Draft& d) const {
    return d.role == InstanceRole::kPrefill ? prefill : decode;
  }
};

// Bytes per request between two stages, with the layers split evenly (the partition comes
// after the nodes).
double pair_bytes(const LayoutWork& w, StageRef a, StageRef b) {
  const Draft& x = w.drafts[a.instance];
  const Draft& y = w.drafts[b.instance];
  if (a.instance == b.instance) {
    return std::abs(a.stage - b.stage) == 1 ? w.load(x).request_act_bytes / w.count(x) : 0.0;
  }
  if (x.role == y.role || x.cell != y.cell) return 0.0;
  const bool x_first = x.role == InstanceRole::kPrefill;
  const Draft& pf = x_first ? x : y;
  const Draft& dc = x_first ? y : x;
  const int32_t ps = x_first ? a.stage : b.stage;
  const int32_t ds = x_first ? b.stage : a.stage;
  const std::vector<int32_t> pl =
      sim::even_layers(w.in.layers, static_cast<int32_t>(pf.nodes.size()));
  const std::vector<int32_t> dl =
      sim::even_layers(w.in.layers, static_cast<int32_t>(dc.nodes.size()));
  const int32_t pf_first = std::accumulate(pl.begin(), pl.begin() + ps, 0);
  const int32_t dc_first = std::accumulate(dl.begin(), dl.begin() + ds, 0);
  const int32_t layers = layers_shared({0, pf_first, pl[ps]}, {0, dc_first, dl[ds]});
  return w.in.kv_bytes_per_layer * layers / (static_cast<double>(w.prefill) * w.decode_per_cell);
}

// The traffic cost of stage `a` on node n against every stage placed so far.
double placed_cost(const LayoutWork& w, StageRef a, int32_t n) {
  double cost = 0;
  for (size_t i = 0; i < w.drafts.size(); ++i) {
    for (size_t s = 0; s < w.drafts[i].nodes.size(); ++s) {
      const int32_t m = w.drafts[i].nodes[s];
      if (m < 0) continue;
      const double bytes = pair_bytes(w, a, StageRef{i, static_cast<int32_t>(s)});
      if (bytes > 0) cost += bytes / w.links[n][m].bytes_per_s;
    }
  }
  return cost;
}

// Places one group of stages that wants one node: the node with room where it costs least,
// then the fullest, then the earliest in `allowed`; the stages one by one when no node has
// room for all. Adds the cost to `cost`; false when some stage found no room.
bool place_group(LayoutWork& w, const std::vector<StageRef>& group,
                 const std::vector<int32_t>& allowed, std::vector<int32_t>& free, double& cost) {
  auto choose = [&](const std::vector<StageRef>& g) -> bool {
    int32_t gpus = 0;
    for (const StageRef& r : g) gpus += w.drafts[r.instance].tp;
    std::optional<std::tuple<double, int32_t, size_t>> best;
    int32_t best_node = -1;
    for (size_t k = 0; k < allowed.size(); ++k) {
      const int32_t n = allowed[k];
      if (free[n] < gpus) continue;
      double c = 0;
      for (size_t i = 0; i < g.size(); ++i) {
        c += placed_cost(w, g[i], n);
        for (size_t j = 0; j < i; ++j) c += pair_bytes(w, g[i], g[j]) / w.links[n][n].bytes_per_s;
      }
      const auto key = std::make_tuple(c, free[n] - gpus, k);
      if (!best || key < *best) {
        best = key;
        best_node = n;
      }
    }
    if (!best) return false;
    for (const StageRef& r : g) w.drafts[r.instance].nodes[r.stage] = best_node;
    free[best_node] -= gpus;
    cost += std::get<0>(*best);
    return true;
  };
  if (choose(group)) return true;
  for (const StageRef& r : group) {
    if (!choose({r})) return false;
  }
  return true;
}

// The instances of cell c, prefill and decode ones interleaved in their ratio (P D P P D
// ... for 3:2), so that a cell too large for one island spreads both roles over the
// islands it spans instead of putting all prefill instances before all decode ones. The
// role with more GPUs per instance starts, so that the largest groups find room first.
std::vector<size_t> cell_members(const LayoutWork& w, int32_t c) {
  std::vector<size_t> roles[2];
  int32_t size[2] = {0, 0};
  for (size_t i = 0; i < w.drafts.size(); ++i) {
    if (w.drafts[i].cell != c) continue;
    const int r = w.drafts[i].role == InstanceRole::kDecode ? 1 : 0;
    roles[r].push_back(i);
    size[r] = w.drafts[i].tp * static_cast<int32_t>(w.drafts[i].nodes.size());
  }
  std::vector<size_t> out;
  size_t taken[2] = {0, 0};
  while (out.size() < roles[0].size() + roles[1].size()) {
    auto due = [&](int r) {
      const double start = size[r] > size[1 - r] ? 0.0 : 0.5;
      return taken[r] == roles[r].size() ? 2.0 : (taken[r] + start) / roles[r].size();
    };
    const int r = due(1) < due(0) ? 1 : 0;
    out.push_back(roles[r][taken[r]++]);
  }
  return out;
}

// The islands: each fabric's nodes, then every node in no fabric on its own.
std::vector<std::vector<int32_t>> islands_of(const Topology& t) {
  std::vector<std::vector<int32_t>> out(t.fabrics.size());
  for (size_t n = 0; n < t.nodes.size(); ++n) {
    if (t.nodes[n].fabric >= 0) out[t.nodes[n].fabric].push_back(static_cast<int32_t>(n));
  }
  for (size_t n = 0; n < t.nodes.size(); ++n) {
    if (t.nodes[n].fabric < 0) out.push_back({static_cast<int32_t>(n)});
  }
  return out;
}

void check_fits(const Topology& t, const Placement& p, const LayoutInputs& in) {
  const std::string what = p.describe() + " on " + t.name;
  if (p.gpus() > t.gpus()) {
    throw TopologyError(what + ": needs " + std::to_string(p.gpus()) +
                        " GPUs and the topology has " + std::to_string(t.gpus()) +
                        "; pick fewer or smaller instances");
  }
  int32_t widest = 0;
  for (const TopologyNode& n : t.nodes) {
    widest = std::max(widest, n.gpus);
    if (n.gpu.name != t.nodes.front().gpu.name) {
      throw TopologyError(t.file + ": nodes '" + t.nodes.front().name + "' (" +
                          t.nodes.front().gpu.name + ") and '" + n.name + "' (" + n.gpu.name +
                          ") have different GPUs; placement on a topology needs one GPU type "
                          "(`bricks plan` mixes GPU types)");
    }
  }
  if (std::max(p.prefill_tp, p.decode_tp) > widest) {
    throw TopologyError(what + ": a tensor-parallel group of " +
                        std::to_string(std::max(p.prefill_tp, p.decode_tp)) +
                        " GPUs does not fit in a node (the largest has " + std::to_string(widest) +
                        "); lower --tp or raise --pp");
  }
  if (std::max(p.prefill_pp, p.decode_pp) > in.layers) {
    throw TopologyError(what + ": more pipeline stages than the model's " +
                        std::to_string(in.layers) + " layers; lower --pp");
  }
}

[[noreturn]] void no_room(const Topology& t, const Placement& p) {
  throw TopologyError(p.describe() + " on " + t.name +
                      ": its tensor-parallel groups cannot be packed into the nodes' GPUs; pick "
                      "a tensor-parallel degree that divides the nodes' GPUs");
}

LayoutWork start_work(const Topology& t, const Placement& p, const LayoutInputs& in,
                      int32_t cells) {
  LayoutWork w{t, in, {}, p.prefill_instances, p.decode_instances, p.decode_instances / cells, {}};
  w.links.resize(t.nodes.size());
  for (size_t a = 0; a < t.nodes.size(); ++a) {
    for (size_t b = 0; b < t.nodes.size(); ++b) {
      w.links[a].push_back(link_between(t, a, b, in.efficiency));
    }
  }
  for (int32_t i = 0; i < p.prefill_instances + p.decode_instances; ++i) {
    const bool pf = i < p.prefill_instances;
    Draft d;
    d.role = pf ? InstanceRole::kPrefill : InstanceRole::kDecode;
    d.tp = pf ? p.prefill_tp : p.decode_tp;
    d.nodes.assign(pf ? p.prefill_pp : p.decode_pp, -1);
    const int32_t index = pf ? i : i - p.prefill_instances;
    d.cell = index / ((pf ? p.prefill_instances : p.decode_instances) / cells);
    w.drafts.push_back(d);
  }
  return w;
}

// The fixed part of each stage's time for the partition: its send over its outgoing link,
// or the output projection on the last stage.
std::vector<double> fixed_times(const LayoutWork& w, const Draft& d) {
  std::vector<double> out;
  const RoleLoad& r = w.load(d);
  for (size_t s = 0; s < d.nodes.size(); ++s) {
    if (s + 1 == d.nodes.size()) {
      out.push_back(r.last_stage_s);
    } else {
      const Link& l = w.links[d.nodes[s]][d.nodes[s + 1]];
      out.push_back(l.latency_s + r.step_act_bytes / l.bytes_per_s);
    }
  }
  return out;
}

// The decode instances each prefill instance of `out` sends its KV to: every one, or, NIC-
// aware, those of its cell it reaches over the best kind of link (the slowest kind among
// the stage pairs that share layers), unless that leaves some decode instance more than
// kMaxDecodeShare times its share of the requests: then all of its cell's, which share
// them equally.
void choose_targets(const LayoutWork& w, bool nic_aware, std::vector<InstanceLayout>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].role != InstanceRole::kPrefill) continue;
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].role == InstanceRole::kDecode &&
          (!nic_aware || w.drafts[j].cell == w.drafts[i].cell)) {
        out[i].kv_targets.push_back(j);
      }
    }
  }
  if (!nic_aware) return;
  const std::vector<InstanceLayout> whole_cells = out;
  for (InstanceLayout& a : out) {
    auto worst_kind = [&](size_t j) {
      LinkKind worst = LinkKind::kNvlink;
      for (const StageSlot& ps : a.stages) {
        for (const StageSlot& ds : out[j].stages) {
          if (layers_shared(ps, ds) > 0) worst = std::max(worst, w.links[ps.node][ds.node].kind);
        }
      }
      return worst;
    };
    LinkKind best = LinkKind::kTcp;
    for (size_t j : a.kv_targets) best = std::min(best, worst_kind(j));
    std::erase_if(a.kv_targets, [&](size_t j) { return worst_kind(j) != best; });
  }
  std::vector<double> share(out.size(), 0.0);
  for (const InstanceLayout& a : out) {
    for (size_t j : a.kv_targets) share[j] += 1.0 / (w.prefill * a.kv_targets.size());
  }
  if (*std::max_element(share.begin(), share.end()) > kMaxDecodeShare / w.decode) {
    out = whole_cells;
  }
}

// Per stage of instance i: one layer's KV of a representative step over the slowest link
// it leaves the stage by, to the decode stages sharing its layers (0 for decode stages).
std::vector<double> kv_nic_times(const LayoutWork& w, const std::vector<InstanceLayout>& all,
                                 size_t i) {
  const InstanceLayout& a = all[i];
  std::vector<double> out(a.stages.size(), 0.0);
  if (a.role != InstanceRole::kPrefill) return out;
  for (size_t s = 0; s < a.stages.size(); ++s) {
    for (size_t j : a.kv_targets) {
      for (const StageSlot& ds : all[j].stages) {
        if (layers_shared(a.stages[s], ds) == 0) continue;
        const double bw = w.links[a.stages[s].node][ds.node].bytes_per_s;
        out[s] = std::max(out[s], w.in.prefill.step_kv_bytes_per_layer / bw);
      }
    }
  }
  return out;
}

// The finished layout from placed drafts: links, KV targets (chosen with the layers split
// evenly) and layers: even, or adaptive (stage_partition.h) with the groups in `joint`
// sharing one partition.
ClusterLayout finish(const LayoutWork& w, bool nic_aware, bool adaptive,
                     const std::vector<std::vector<size_t>>& joint) {
  ClusterLayout out;
  out.nic_aware = nic_aware;
  for (const Draft& d : w.drafts) {
    InstanceLayout il;
    il.role = d.role;
    il.tp = d.tp;
    const std::vector<int32_t> even =
        sim::even_layers(w.in.layers, static_cast<int32_t>(d.nodes.size()));
    int32_t first = 0;
    for (size_t s = 0; s < d.nodes.size(); ++s) {
      il.stages.push_back(StageSlot{d.nodes[s], first, even[s]});
      first += even[s];
      if (s + 1 < d.nodes.size()) il.links.push_back(w.links[d.nodes[s]][d.nodes[s + 1]]);
    }
    out.instances.push_back(std::move(il));
  }
  choose_targets(w, nic_aware, out.instances);
  if (adaptive) {
    std::vector<std::vector<size_t>> groups = joint;
    std::vector<bool> grouped(w.drafts.size(), false);
    for (const std::vector<size_t>& g : joint) {
      for (size_t i : g) grouped[i] = true;
    }
    for (size_t i = 0; i < w.drafts.size(); ++i) {
      if (!grouped[i]) groups.push_back({i});
    }
    std::vector<std::vector<int32_t>> layers(w.drafts.size());
    for (const std::vector<size_t>& g : groups) {
      std::vector<double> layer_s;
      std::vector<std::vector<double>> fixed, nic;
      for (size_t i : g) {
        layer_s.push_back(w.load(w.drafts[i]).layer_s);
        fixed.push_back(fixed_times(w, w.drafts[i]));
        nic.push_back(kv_nic_times(w, out.instances, i));
      }
      const std::vector<int32_t> split = adaptive_layers(w.in.layers, layer_s, fixed, nic);
      for (size_t i : g) layers[i] = split;
    }
    for (size_t i = 0; i < out.instances.size(); ++i) {
      int32_t first = 0;
      for (size_t s = 0; s < layers[i].size(); ++s) {
        out.instances[i].stages[s].first_layer = first;
        out.instances[i].stages[s].layers = layers[i][s];
        first += layers[i][s];
      }
    }
  }
  // The cost of traffic with the layers as partitioned.
  double cost = 0;
  for (const InstanceLayout& a : out.instances) {
    const RoleLoad& r = a.role == InstanceRole::kPrefill ? w.in.prefill : w.in.decode;
    const double n = a.role == InstanceRole::kPrefill ? w.prefill : w.decode;
    for (const Link& l : a.links) cost += r.request_act_bytes / n / l.bytes_per_s;
    for (size_t j : a.kv_targets) {
      for (const StageSlot& ps : a.stages) {
        for (const StageSlot& ds : out.instances[j].stages) {
          const int32_t shared = layers_shared(ps, ds);
          cost += w.in.kv_bytes_per_layer * shared /
                  (static_cast<double>(w.prefill) * a.kv_targets.size()) /
                  w.links[ps.node][ds.node].bytes_per_s;
        }
      }
    }
  }
  out.traffic_cost_s = cost;
  return out;
}

}  // namespace

ClusterLayout oblivious_layout(const Topology& t, const Placement& p, const LayoutInputs& in) {
  check_fits(t, p, in);
  LayoutWork w = start_work(t, p, in, 1);
  std::vector<int32_t> free;
  for (const TopologyNode& n : t.nodes) free.push_back(n.gpus);
  for (Draft& d : w.drafts) {
    for (int32_t& node : d.nodes) {
      for (size_t n = 0; n < free.size() && node < 0; ++n) {
        if (free[n] >= d.tp) {
          node = static_cast<int32_t>(n);
          free[n] -= d.tp;
        }
      }
      if (node < 0) no_room(t, p);
    }
  }
  return finish(w, false, false, {});
}

ClusterLayout nic_aware_layout(const Topology& t, const Placement& p, const LayoutInputs& in) {
  check_fits(t, p, in);
  const int32_t cells = std::gcd(p.prefill_instances, p.decode_instances);
  LayoutWork w = start_work(t, p, in, cells);
  std::vector<int32_t> free;
  for (const TopologyNode& n : t.nodes) free.push_back(n.gpus);
  const std::vector<std::vector<int32_t>> islands = islands_of(t);
  std::vector<int32_t> everywhere;
  for (const std::vector<int32_t>& island : islands) {
    everywhere.insert(everywhere.end(), island.begin(), island.end());
  }
  std::vector<std::vector<size_t>> joint;  // stage-major cells share a partition
  for (int32_t c = 0; c < cells; ++c) {
    const std::vector<size_t> members = cell_members(w, c);
    // The two arrangements as groups of stages that want one node.
    std::vector<std::vector<std::vector<StageRef>>> arrangements(1);
    for (size_t i : members) {
      std::vector<StageRef> all;
      for (size_t s = 0; s < w.drafts[i].nodes.size(); ++s)
        all.push_back({i, static_cast<int32_t>(s)});
      arrangements[0].push_back(all);
    }
    if (p.prefill_pp == p.decode_pp && p.prefill_pp > 1) {
      arrangements.emplace_back();
      for (int32_t s = 0; s < p.prefill_pp; ++s) {
        std::vector<StageRef> slice;
        for (size_t i : members) slice.push_back({i, s});
        arrangements[1].push_back(slice);
      }
    }
    // Every arrangement in every island, then over all nodes; the cheapest wins, then an
    // island over all nodes, then the fullest island, then the earlier.
    std::optional<std::tuple<double, size_t, int32_t, size_t>> best;
    size_t best_arrangement = 0;
    std::vector<Draft> best_drafts;
    std::vector<int32_t> best_free;
    for (size_t a = 0; a < arrangements.size(); ++a) {
      for (size_t k = 0; k <= islands.size(); ++k) {
        const bool anywhere = k == islands.size();
        const std::vector<int32_t>& allowed = anywhere ? everywhere : islands[k];
        LayoutWork trial = w;
        std::vector<int32_t> trial_free = free;
        double cost = 0;
        bool placed = true;
        for (const std::vector<StageRef>& group : arrangements[a]) {
          placed = placed && place_group(trial, group, allowed, trial_free, cost);
        }
        if (!placed) continue;
        int32_t left = 0;
        for (int32_t n : allowed) left += trial_free[n];
        const auto key = std::make_tuple(cost, static_cast<size_t>(anywhere), left, k);
        if (!best || key < *best) {
          best = key;
          best_arrangement = a;
          best_drafts = std::move(trial.drafts);
          best_free = std::move(trial_free);
        }
      }
    }
    if (!best) no_room(t, p);
    if (best_arrangement == 1) joint.push_back(members);
    w.drafts = std::move(best_drafts);
    free = std::move(best_free);
  }
  return finish(w, true, true, joint);
}

std::vector<LinkKind> ClusterLayout::kv_link_kinds(const Topology& t, size_t i) const {
  std::vector<LinkKind> kinds;
  for (size_t j : instances.at(i).kv_targets) {
    for (const StageSlot& ps : instances[i].stages) {
      for (const StageSlot& ds : instances.at(j).stages) {
        if (layers_shared(ps, ds) == 0) continue;
        const LinkKind kind = link_between(t, ps.node, ds.node).kind;
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
      }
    }
  }
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

std::string ClusterLayout::describe(const Topology& t) const {
  std::string out;
  int32_t counts[3] = {0, 0, 0};
  std::vector<int32_t> number;
  for (const InstanceLayout& il : instances) number.push_back(counts[static_cast<int>(il.role)]++);
  for (size_t i = 0; i < instances.size(); ++i) {
    const InstanceLayout& il = instances[i];
    out += std::string("  ") + instance_role_name(il.role) + " " + std::to_string(number[i]) +
           " (tp" + std::to_string(il.tp) + "): ";
    for (size_t s = 0; s < il.stages.size(); ++s) {
      const StageSlot& st = il.stages[s];
      if (s > 0) out += " -" + il.links[s - 1].describe() + "-> ";
      out += t.nodes[st.node].name + " L" + std::to_string(st.first_layer) + "-" +
             std::to_string(st.first_layer + st.layers - 1);
    }
    if (il.role == InstanceRole::kPrefill) {
      const bool all = il.kv_targets.size() == static_cast<size_t>(counts[2]) && counts[2] > 1;
      out += "; KV to " + std::string(all ? "every decode" : "decode");
      for (size_t k = 0; k < il.kv_targets.size() && !all; ++k) {
        out += (k ? ", " : " ") + std::to_string(number[il.kv_targets[k]]);
      }
      const std::vector<LinkKind> kinds = kv_link_kinds(t, i);
      out += " over";
      for (size_t k = 0; k < kinds.size(); ++k)
        out += (k ? ", " : " ") + std::string(link_kind_name(kinds[k]));
    }
    out += "\n";
  }
  return out;
}

}  // namespace bricks::engine
