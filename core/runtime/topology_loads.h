// What the NIC-aware layout (cluster/topology_layout.h) weighs, for a manifest's model and
// workload on a topology's GPU: each role's representative step on its tensor-parallel
// group, timed by the sim cost model, and the mean request's KV and activations.
//
// Representative steps: prefill, one 512-token chunk (the disagg brick's default prefill
// budget) of a fresh prompt; decode, 64 sequences at the mean request's context halfway
// through its output. They weigh stages against each other in the partition, so their
// ratio matters more than their size.
//
// Thread safety: const member functions are safe from any thread.
#pragma once

#include "cluster/placement.h"
#include "cluster/topology.h"
#include "cluster/topology_layout.h"
#include "manifest/manifest.h"
#include "sim/cost_model.h"

namespace bricks::engine {

class TopologyLoads {
 public:
  // Reads the manifest's device section (sim_model, kv_dtype, cost_model) and samples its
  // workload (up to 2000 requests) for the mean prompt and output. Throws RuntimeError
  // naming the manifest when the device is not sim, a preset is unknown or the workload
  // cannot be made.
  TopologyLoads(const manifest::LoadedManifest& m, const Topology& t);

  // The loads of `p`'s prefill and decode instances.
  LayoutInputs inputs(const Placement& p) const;

  double mean_prompt_tokens() const { return mean_prompt_; }
  double mean_output_tokens() const { return mean_output_; }

 private:
  RoleLoad role_load(int32_t tp, bool prefill) const;

  sim::GpuSpec gpu_;
  sim::ModelSpec model_;
  sim::CostConstants constants_;
  int32_t kv_element_bytes_ = 2;
  double mean_prompt_ = 0, mean_output_ = 0;
};

}  // namespace bricks::engine
