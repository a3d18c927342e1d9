// The memory tiers of a sim run: where the weights were placed (layers and bytes on the
// GPU, in host memory, on the SSD) and what crossed between the tiers (weights streamed to
// the GPU every step, KV copied to and from host memory and the SSD), with the time each
// took and the part hidden behind compute. Empty (present false) for a run without tiers,
// so that such a report reads as before.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/sim_device.h"

namespace bricks::engine {

struct TierReport {
  bool present = false;
  std::string ssd;  // the SSD preset's name; empty when there is none
  // Placement: decoder layers and weight bytes per tier (GPU bytes per GPU, with the
  // embeddings, output projection and staging buffers; host and SSD bytes of the group).
  int32_t gpu_layers = 0, host_layers = 0, ssd_layers = 0;
  double gpu_bytes = 0, host_bytes = 0, ssd_bytes = 0;
  // Traffic over the run.
  double weight_host_bytes = 0, weight_ssd_bytes = 0;  // streamed to the GPU
  double weight_transfer_s = 0, weight_hidden_s = 0;   // their time; hidden behind compute
  double kv_host_bytes = 0, kv_ssd_bytes = 0;          // KV to or from each tier
  double kv_host_s = 0, kv_ssd_s = 0;

  nlohmann::json to_json() const;
  // Lines for Report::to_table, each starting "  tiers".
  std::string to_table() const;
};

// The tiers of `device`: present when it streams weights, has an SSD or moved KV to it.
TierReport tier_report(const SimDevice& device);

}  // namespace bricks::engine
