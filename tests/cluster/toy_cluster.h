// Clusters of toy-device engines for the cluster and placement suites: real scheduler and
// kv bricks from the build tree, a small model shape, and ToyDevice for the time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "cluster/placement.h"
#include "host/registry.h"
#include "toy_device.h"

namespace bricks::testing {

struct ToyClusterOptions {
  ToyCost cost;                  // tp is set per instance from the placement
  int64_t kv_tokens = 1 << 14;   // KV capacity of one instance, in tokens
  int32_t block_size = 16;
  engine::KvLink link;
  double kv_bytes_per_token = 1000;
  std::string colocated_scheduler = "sarathi";
  host::ParamMap colocated_params;
  host::ParamMap disagg_params;  // "role" is set per instance
  bool wall_clock = false;       // give instance 0 a real clock (to test the refusal)
};

// The registry over the build tree's plugins, scanned once per process, in process.
const host::Registry& toy_registry();

// The model shape every toy engine runs.
model::LlamaConfig toy_config();

class ToyCluster {
 public:
  ToyCluster(const engine::Placement& p, const ToyClusterOptions& o);
  ~ToyCluster();

  engine::Cluster& cluster() { return *cluster_; }
  const ToyDevice& device(size_t instance) const { return *devices_[instance]; }

 private:
  std::vector<std::unique_ptr<host::BrickInstance>> bricks_;
  std::vector<const ToyDevice*> devices_;
  std::unique_ptr<engine::Cluster> cluster_;
};

// Instances for a placement without wrapping them in a cluster (to test the refusals).
std::vector<engine::ClusterInstance> toy_instances(
    const engine::Placement& p, const ToyClusterOptions& o,
    std::vector<std::unique_ptr<host::BrickInstance>>& bricks,
    std::vector<const ToyDevice*>* devices = nullptr);

struct ToyWorkload {
  int32_t num_requests = 60;
  double rate = 20;  // Poisson arrivals per second
  int32_t min_prompt = 16, max_prompt = 256;
  int32_t min_output = 2, max_output = 48;
  uint64_t seed = 7;
};
std::vector<engine::RequestSpec> toy_workload(const ToyWorkload& w);

}  // namespace bricks::testing
