// Datacenter GPUs the sim device models: the few numbers a roofline cost model needs.
// Bandwidths are per direction, in bytes per second; compute is dense (no sparsity).
// Each GPU is a GpuPreset file (core/proto/sim_presets.proto); the shipped ones, with the
// source of every number, are core/sim/presets/gpus/*.textproto.
#pragma once

#include <filesystem>
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

// Every shipped preset, in the order of kGpuPresetNames.
const std::vector<GpuSpec>& gpu_presets();
// The shipped preset `name`; throws SimError listing the presets when there is none.
const GpuSpec& gpu_preset(std::string_view name);

// The GPU a GpuPreset text describes. Throws SimError "<file>:<line>: ..." naming the field
// and the fix for a syntax error, an unknown field, a missing field or one not above 0.
GpuSpec parse_gpu_preset(const std::string& text, const std::string& file);

// A shipped preset by name, or a GpuPreset file (a relative path against `base`, the
// manifest's directory). Throws SimError as find_preset and parse_gpu_preset do.
GpuSpec load_gpu(const std::string& name_or_path, const std::filesystem::path& base);

}  // namespace bricks::sim
