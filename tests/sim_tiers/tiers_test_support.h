// A four-layer model with round sizes and a round SSD, so that every placement and step
// time of the tiered cost model can be worked out by hand.
#pragma once

#include "sim/cost_model.h"
#include "sim/ssd_presets.h"
#include "sim_test_support.h"

namespace bricks::testing {

// round_model with four layers. One layer: 16 Mi linear weights and two norms of 1024,
// 16,779,264 parameters, 33,558,528 bytes. The fixed part: embedding and output
// projection of 1000 x 1024 each and the final norm, 2,049,024 parameters, 4,098,048 bytes.
inline sim::ModelSpec four_layer_model() {
  sim::ModelSpec m = round_model();
  m.name = "four-layer";
  m.config.n_layers = 4;
  return m;
}

inline constexpr double kLayerBytes = 33558528;
inline constexpr double kFixedBytes = 4098048;

// Reads at 2 GB/s, writes at 1 GB/s, 100 us a request.
inline sim::SsdSpec round_ssd() {
  sim::SsdSpec s;
  s.name = "round-ssd";
  s.read_bytes_per_s = 2e9;
  s.write_bytes_per_s = 1e9;
  s.latency_s = 100e-6;
  return s;
}

inline sim::CostModel four_layer_cost_model(const sim::WeightTierOptions& tiers) {
  sim::CostModelOptions o;
  o.constants = plain_constants();
  o.tiers = tiers;
  return sim::CostModel(round_gpu(), four_layer_model(), o);
}

}  // namespace bricks::testing
