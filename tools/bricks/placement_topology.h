// `bricks placement MANIFEST --topology FILE`: the placement search on a given cluster of
// nodes with their NICs (cluster/topology.h). Every disaggregated placement that uses all
// of the topology's GPUs (tp and pp from the flags) is laid out twice, NIC-aware and
// NIC-oblivious (cluster/topology_layout.h), and each layout's goodput is found by
// simulation with the KV moving over the topology's network.
#pragma once

#include <string>

#include "cluster/placement.h"
#include "manifest/manifest.h"
#include "report/report.h"

namespace bricks::cli {

struct TopologyPlacementRun {
  std::string topology;  // the topology file
  std::string json;      // also write the results here ("" = no)
  engine::SloSpec slo;
  engine::PlacementOptions options;  // tp and pp choices and the rate search
  int requests_per_gpu = 1000;
  bool allow_group_writable_plugins = false;
};

// Prints the table of placements with both goodputs and the best layout of each kind.
// Returns the CLI's exit code: 0 when some NIC-aware layout met the SLO, 1 when none did
// or the manifest cannot be simulated, 3 when the topology file cannot be read or is
// invalid.
int run_topology_placement(const manifest::LoadedManifest& m, const TopologyPlacementRun& run);

}  // namespace bricks::cli
