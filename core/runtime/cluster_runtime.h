// From a manifest to a running cluster (cluster.h) on the sim device.
//
// A manifest whose scheduler is scheduler/disagg describes a disaggregated cluster: its
// params give the placement (prefill_instances x prefill_tp GPUs, decode_instances x
// decode_tp GPUs) and the KV link; every instance gets its own sim device (the manifest's
// device section with tensor_parallel set to the instance's), its own kv brick and its own
// scheduler/disagg in the instance's role. Any other scheduler makes a colocated cluster of
// identical instances (one, unless a placement is given).
//
// The link: the disagg params' preset (nvlink 300 GB/s and 5 us, pcie4 25 GB/s and 10 us,
// infiniband 200 Gbit/s and 5 us, ethernet 25 Gbit/s and 50 us), link_gbps and
// link_latency_us overriding it. Each GPU of a tensor-parallel instance holds its share of
// the KV and sends it over its own link, so the bandwidth is multiplied by
// min(prefill_tp, decode_tp).
//
// On a topology (ClusterSetupOptions::topology and layout, topology_layout.h) the
// instances are the layout's: each on the topology's GPU preset, with its pipeline stages
// and the links between them in its cost model, and the KV moving over the topology's
// network (kv_network.h) instead of the disagg params' link.
//
// run_manifest (run_manifest.h) runs a manifest for which needs_cluster() holds on a
// ClusterRuntime instead of a single-engine Runtime.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "cluster/placement.h"
#include "cluster/topology.h"
#include "cluster/topology_layout.h"
#include "host/registry.h"
#include "manifest/manifest.h"
#include "report/report.h"
#include "workload/workload.h"

namespace bricks::engine {

// One instance of a heterogeneous colocated cluster: its GPU preset and its routing pool.
struct InstanceDevice {
  std::string gpu;   // a sim GPU preset (sim/preset_names.h), replacing device.gpu
  int32_t pool = 0;  // ClusterInstance::pool
};

struct ClusterSetupOptions {
  // Replaces the manifest's placement.
  std::optional<Placement> placement;
  // When not empty: a colocated cluster of exactly these instances, each on its own GPU
  // preset (tensor_parallel from the manifest's device), instead of the placement's.
  std::vector<InstanceDevice> instances;
  // The scheduler of colocated instances when the manifest's scheduler is disagg (its
  // params are the brick's defaults plus max_num_seqs and preemption from the manifest's).
  std::string colocated_scheduler = "sarathi";
  // host::LoadOptions::allow_group_writable: plugins their group may write are loaded.
  bool allow_group_writable_plugins = false;
  // When both are set: a disaggregated cluster of the layout's instances on the topology
  // (placement must be the layout's). Both must outlive create().
  const Topology* topology = nullptr;
  const ClusterLayout* layout = nullptr;
};

// True when the manifest's scheduler is scheduler/disagg.
bool needs_cluster(const manifest::Manifest& m);

// The placement the manifest asks for: its scheduler/disagg params, or one colocated
// instance of device.tensor_parallel GPUs. Throws RuntimeError for a malformed value.
Placement manifest_placement(const manifest::LoadedManifest& m, const host::Catalogue& catalogue);

// The manifest's KV link for a placement (see the top of this file).
KvLink manifest_link(const manifest::LoadedManifest& m, const host::Catalogue& catalogue,
                     const Placement& p);

class ClusterRuntime {
 public:
  // Loads the plugins of the manifest's paths, validates the manifest and builds the cluster.
  // Throws RuntimeError with a clear message (the validator's diagnostics, one per line; a
  // device other than sim; a brick kind the sim cluster does not run).
  static std::unique_ptr<ClusterRuntime> create(const manifest::LoadedManifest& m,
                                                const ClusterSetupOptions& options = {});
  // The same over an existing registry (which must outlive the runtime), for callers that
  // build many clusters from one manifest; the manifest is not validated again.
  static std::unique_ptr<ClusterRuntime> create(const manifest::LoadedManifest& m,
                                                const host::Registry& registry,
                                                const ClusterSetupOptions& options);
  ~ClusterRuntime();

  Cluster& cluster() { return *cluster_; }
  const Placement& placement() const { return placement_; }
  int32_t vocab_size() const { return vocab_size_; }
  // "scheduler/disagg kv/paged" and "sim: opt-13b on ... ; 2 prefill x tp1 + ...".
  const std::string& bricks_summary() const { return bricks_summary_; }
  const std::string& device_summary() const { return device_summary_; }

 private:
  ClusterRuntime() = default;
  std::unique_ptr<host::Registry> own_registry_;
  // Bricks outlive the cluster: members are destroyed in reverse order.
  std::vector<std::unique_ptr<host::BrickInstance>> bricks_;
  std::unique_ptr<Cluster> cluster_;
  Placement placement_;
  int32_t vocab_size_ = 0;
  std::string bricks_summary_, device_summary_;
};

// Whether a run's requests (any order) reach slo.attainment: all of them, and also the later
// half by arrival. A run past its capacity has growing queues, so its late requests fare
// worse; without the second test a short run would pass on the strength of its early
// requests, served before the queues (or the KV cache) filled up.
bool meets_attainment(std::vector<RequestRecord> records, const SloSpec& slo);

// The placement search's probe over a manifest: each call builds the placement's cluster,
// replays requests_per_gpu * its GPUs requests of the manifest's generator at the given
// rate and says whether they meet the attainment target (meets_attainment). Scaling the run
// with the GPUs keeps every instance's run equally long, so a larger cluster does not look
// better only because its run ends before queues build up. The registry is scanned once.
class ClusterProbe {
 public:
  // `m` must outlive the probe. Throws RuntimeError when the manifest is invalid, has no
  // generator, or no SLO. `allow_group_writable_plugins`: host::LoadOptions'.
  ClusterProbe(const manifest::LoadedManifest& m, const SloSpec& slo, int32_t requests_per_gpu,
               std::string colocated_scheduler, bool allow_group_writable_plugins = false);
  ~ClusterProbe();
  bool operator()(const Placement& p, double rate) const;
  // The same for `p` laid out on a topology (ClusterSetupOptions::topology and layout).
  bool operator()(const Placement& p, double rate, const Topology& t,
                  const ClusterLayout& layout) const;

 private:
  bool run(const Placement& p, double rate, const ClusterSetupOptions& o) const;

  const manifest::LoadedManifest& m_;
  SloSpec slo_;
  int32_t requests_per_gpu_;
  std::string colocated_scheduler_;
  std::optional<RateRetarget> retarget_;  // the workload at each rate
  std::unique_ptr<host::Registry> registry_;
};

}  // namespace bricks::engine
