// Weights in three tiers on the sim device: GPU memory, host memory and an SSD. When a
// model's weights do not fit the GPU memory given to them, whole decoder layers stay
// resident on the GPU, the rest live in host memory up to its size and the remainder on
// the SSD, and every step each non-resident layer crosses to the GPU before it computes.
//
// Placement (place_weights): the embeddings, the final norm and the output projection
// stay on the GPU (every step needs them), with two staging buffers of one layer each that
// streamed layers land in (one computing, one arriving). Of the decoder layers, as many as
// fit the rest of the GPU's weight memory stay resident; host memory (less the host KV
// tier) takes the next ones whole, the SSD the remainder. The streamed layers are spread
// evenly among the resident ones (layer l streams when floor((l+1) s / n) > floor(l s / n),
// s of n layers streaming), so that resident layers' compute hides the transfers after
// them; host-held layers come first among the streamed, then the SSD-held.
//
// Transfer of one layer of B bytes per GPU (pcie = the link's nominal times
// pcie_efficiency, one copy engine per GPU, transfers in layer order):
//   host -> GPU   transfer_latency_s + B / pcie
//   SSD  -> GPU   ssd.latency_s + max(B / pcie, tp * B / ssd.read): the SSD's read and the
//                 PCIe copy pipeline through pinned host buffers, so the slower sets the
//                 rate; one request per layer; the group's GPUs share one SSD.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/sim_error.h"
#include "sim/ssd_presets.h"

namespace bricks::sim {

// A tier error about one setting of the device section ("weight_memory_bytes", "ssd",
// "host_memory_bytes"), so that a manifest's error can be placed at that field.
class TierError : public SimError {
 public:
  TierError(std::string field, const std::string& what)
      : SimError(what), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// What the device section says about the tiers. Streaming is on when any of
// gpu_weight_bytes, host_memory_bytes or ssd is set; otherwise the weights must fit the GPU
// as before (CostModel::kv_capacity_bytes throws when they do not).
struct WeightTierOptions {
  double gpu_weight_bytes = 0;   // per GPU (device.weight_memory_bytes); 0 = what fits
  double host_memory_bytes = 0;  // 0 = unlimited
  double host_kv_bytes = 0;      // of host memory, taken by the host KV tier
  std::optional<SsdSpec> ssd;
  bool overlap = false;                 // transfers beside compute (device.overlap_swaps)
  double gpu_memory_utilization = 0.9;  // for the budget when gpu_weight_bytes is 0

  bool enabled() const { return gpu_weight_bytes > 0 || host_memory_bytes > 0 || ssd; }
};

enum class WeightTier : uint8_t { kGpu, kHost, kSsd };

// Where the weights are, per GPU of a tensor-parallel group (its 1/tp share of each layer).
struct WeightPlacement {
  std::vector<WeightTier> layers;  // per decoder layer, in order
  int32_t gpu_layers = 0, host_layers = 0, ssd_layers = 0;
  double layer_bytes = 0;    // one decoder layer on one GPU
  double fixed_bytes = 0;    // embeddings, final norm, output projection on one GPU
  double staging_bytes = 0;  // two layer buffers when any layer streams, else 0
  int32_t tensor_parallel = 1;

  bool streams() const { return host_layers + ssd_layers > 0; }
  // Weight bytes on one GPU: the fixed part, resident layers and the staging buffers.
  double gpu_bytes() const { return fixed_bytes + gpu_layers * layer_bytes + staging_bytes; }
  // Bytes held in host memory and on the SSD, every GPU's share together.
  double host_bytes() const { return host_layers * layer_bytes * tensor_parallel; }
  double ssd_bytes() const { return ssd_layers * layer_bytes * tensor_parallel; }
};

// What place_weights needs besides the options.
struct WeightShape {
  int32_t layers = 0;
  double layer_bytes = 0;  // per GPU
  double fixed_bytes = 0;  // per GPU
  int32_t tensor_parallel = 1;
  std::string model;  // for errors: "llama-2-70b"
};

// Places the layers in a GPU weight budget of `gpu_budget` bytes (per GPU). Throws
// TierError naming the setting and the fix when the budget holds less than the fixed part
// and two staging buffers, when host memory is smaller than the host KV tier, or when
// layers are left for the SSD and there is none.
WeightPlacement place_weights(const WeightShape& shape, double gpu_budget,
                              const WeightTierOptions& options);

// Seconds one layer's transfer to the GPU takes from `tier` (0 for kGpu), as above.
double layer_transfer_seconds(WeightTier tier, double layer_bytes, int32_t tensor_parallel,
                              double pcie_bytes_per_s, double copy_latency_s,
                              const std::optional<SsdSpec>& ssd);

// The decoder layers of one step when some stream in.
struct LayerPipeline {
  double seconds = 0;     // from the step's first layer to the end of its last
  double transfer_s = 0;  // every transfer's time, summed
  double hidden_s = 0;    // of which ran while a layer computed
};

// Layers of `compute_s` each, layer l needing transfer[l] seconds of copy first (0: it is
// resident). Without overlap every transfer runs before the compute: seconds =
// sum(compute) + sum(transfer). With overlap one copy engine moves the streamed layers in
// order into two staging buffers: the copy of a streamed layer starts when the engine is
// free and its buffer's previous layer has computed; a layer computes when the previous
// layer has computed and its own copy has arrived. For n layers that all stream with the
// same transfer t this gives t + (n - 1) * max(t, c) + c: the first transfer, then the
// slower of copy and compute per layer, then the last compute.
LayerPipeline layer_pipeline(std::span<const double> transfer, double compute_s, bool overlap);

}  // namespace bricks::sim
