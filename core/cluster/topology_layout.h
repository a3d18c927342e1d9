// Where the instances of a disaggregated placement sit on a topology (topology.h): which
// node holds each pipeline stage, which layers it holds, and which decode instances a
// prefill instance sends its requests' KV to. Two ways:
//
// NIC-oblivious (the baseline): instances in order (prefill, then decode), each stage on the
// first node in file order with room for its tensor-parallel group, layers split evenly
// over the stages, and every prefill instance sending to every decode instance. This is
// what a launcher that knows GPUs but not NICs does.
//
// NIC-aware (Holmes's idea for inference): the heavy traffic goes on the fast links.
//  1. Cells. The instances are split into g = gcd(prefill, decode) cells of the same
//     prefill:decode ratio; a prefill instance sends KV only within its cell, so each cell
//     is one traffic domain and the cells share the load equally. Within its cell it sends
//     to the decode instances it reaches over the best kind of link, unless that would give
//     some decode instance more than 1.25 times its share of the requests.
//  2. Islands. Nodes that reach each other over RDMA (one fabric) form an island, every
//     other node is one on its own. A cell goes into the island where it costs least,
//     whole, if one has room; else over all nodes.
//  3. Arrangements. A cell is packed two ways and the cheaper one kept: instance-major
//     (each instance's stages together, the KV between nodes; prefill and decode instances
//     in turn, in their ratio, the larger ones first) and, when prefill and decode
//     have as many stages, stage-major (stage s of every instance of the cell on one node,
//     as DistServe's low node-affinity placement does, so the KV moves inside nodes and
//     only the light activations between stages cross the network). Each group of stages
//     goes to the node with room where its traffic to the cell's stages placed so far
//     costs least, then the fullest such node, then file order.
//  4. Self-adapting partition (Holmes; stage_partition.h): layers go to stages so that the
//     slowest stage, its compute plus its send over its outgoing link or its NIC's share of
//     the KV, is as fast as it can be; the stages of a stage-major cell share one
//     partition so their KV stays aligned.
//
// Cost of traffic: per request, bytes / link bandwidth summed over the KV of every layer
// (weighted by the share of requests a prefill instance sends to each decode instance of
// its cell) and the activations crossing every stage boundary.
//
// Thread safety: functions without state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "cluster/placement.h"
#include "cluster/topology.h"

namespace bricks::engine {

struct StageSlot {
  int32_t node = 0;  // index into Topology::nodes
  int32_t first_layer = 0;
  int32_t layers = 0;
};

// Layers two stages (of different instances) both hold.
inline int32_t layers_shared(const StageSlot& a, const StageSlot& b) {
  const int32_t end = std::min(a.first_layer + a.layers, b.first_layer + b.layers);
  return std::max(0, end - std::max(a.first_layer, b.first_layer));
}

struct InstanceLayout {
  InstanceRole role = InstanceRole::kPrefill;
  int32_t tp = 1;
  std::vector<StageSlot> stages;  // in pipeline order
  std::vector<Link> links;        // stages.size() - 1: from stage s to stage s + 1
  // Prefill: the decode instances (indices into ClusterLayout::instances) its requests'
  // KV may go to. Decode: empty.
  std::vector<size_t> kv_targets;
};

struct ClusterLayout {
  std::vector<InstanceLayout> instances;  // prefill instances first, then decode
  bool nic_aware = false;
  double traffic_cost_s = 0;  // the cost of traffic above, per request

  // The kinds of link the KV of prefill instance i crosses to its targets (fastest first).
  std::vector<LinkKind> kv_link_kinds(const Topology& t, size_t i) const;
  // One line per instance: "prefill 0 (tp2): ib-0 L0-19 -rdma 22.5 GB/s-> ib-1 L20-39; KV to
  // decode 0 over rdma".
  std::string describe(const Topology& t) const;
};

// What the partition and the cost of traffic weigh, from a representative step of each
// role (the caller's cost model) and the workload's mean request.
struct RoleLoad {
  double layer_s = 0;                  // one layer of a representative step on the role's GPU group
  double last_stage_s = 0;             // what the last stage adds to it (the output projection)
  double step_act_bytes = 0;           // activations of that step crossing one stage boundary
  double step_kv_bytes_per_layer = 0;  // KV of that step's new tokens in one layer
  double request_act_bytes = 0;        // activations of one request crossing one boundary
};

struct LayoutInputs {
  int32_t layers = 1;
  RoleLoad prefill, decode;
  double kv_bytes_per_layer = 0;  // one mean request's KV of one layer
  LinkEfficiency efficiency;
};

// Throws TopologyError when the placement does not fit the topology: more GPUs than it has,
// a tensor-parallel group larger than every node, more stages than layers, or groups that
// cannot be packed into the nodes.
ClusterLayout oblivious_layout(const Topology& t, const Placement& p, const LayoutInputs& in);
ClusterLayout nic_aware_layout(const Topology& t, const Placement& p, const LayoutInputs& in);

}  // namespace bricks::engine
