// Datacenter GPUs the sim device models: the few numbers a roofline cost model needs.
// Bandwidths are per direction, in bytes per second; compute is dense (no sparsity).
// The numbers and their sources are in gpu_presets.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bricks::sim {

struct GpuSpec {
  std::string name;             // preset name, e.g. "a100-80gb"
  double memory_bytes = 0;      // device memory as the driver reports it
  double hbm_bytes_per_s = 0;   // device memory bandwidth
  double bf16_flops = 0;        // dense bf16 tensor-core peak, FLOP/s
  double link_bytes_per_s = 0;  // GPU-to-GPU (NVLink, or PCIe where there is none)
  double pcie_bytes_per_s = 0;  // host <-> GPU, for KV swaps
  double price_per_hour = 0;    // on-demand USD per GPU-hour
};

// Every preset, in the order of kGpuPresetNames.
const std::vector<GpuSpec>& gpu_presets();
// The preset `name`; throws SimError listing the presets when there is none.
const GpuSpec& gpu_preset(std::string_view name);

}  // namespace bricks::sim
