#include "sim/gpu_presets.h"

#include "sim/preset_names.h"
#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

constexpr double kGB = 1e9;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kTera = 1e12;

std::vector<GpuSpec> make_gpu_presets() {
  std::vector<GpuSpec> p;
  // A100 SXM4 80GB. Memory: 81920 MiB (nvidia-smi). HBM2e 2039 GB/s, bf16 312 TFLOP/s
  // dense (NVIDIA A100 datasheet). NVLink 3: 600 GB/s total, 300 GB/s each way (same
  // datasheet). PCIe Gen4 x16: 32 GB/s each way (PCI-SIG 4.0). Price: Mélange (Griggs et
  // al. 2024), $3.67/h.
  p.push_back({"a100-80gb", 81920 * kMiB, 2039 * kGB, 312 * kTera, 300 * kGB, 32 * kGB, 3.67});
  // H100 SXM5 80GB. Memory: 81559 MiB (nvidia-smi). HBM3 3.35 TB/s, bf16 989 TFLOP/s dense
  // (NVIDIA H100 datasheet, SXM column). NVLink 4: 900 GB/s total, 450 GB/s each way.
  // PCIe Gen5 x16: 64 GB/s each way. Price: Mélange's GPU table, $7.52/h.
  p.push_back({"h100-80gb", 81559 * kMiB, 3350 * kGB, 989 * kTera, 450 * kGB, 64 * kGB, 7.52});
  // A10G (AWS g5). Memory: 23028 MiB (nvidia-smi). GDDR6 600 GB/s (NVIDIA A10 datasheet;
  // the A10G shares its memory system). bf16 tensor 70 TFLOP/s dense: the A10G runs its
  // tensor cores below the A10's 125 (Baseten, "NVIDIA A10 vs A10G for ML model
  // inference"). No NVLink: GPU-to-GPU and host traffic both go over PCIe Gen4 x16,
  // 32 GB/s each way. Price: Mélange, $1.01/h.
  p.push_back({"a10g", 23028 * kMiB, 600 * kGB, 70 * kTera, 32 * kGB, 32 * kGB, 1.01});
  // L4. Memory: 23034 MiB (nvidia-smi). GDDR6 300 GB/s, bf16 121 TFLOP/s dense (NVIDIA L4
  // datasheet: 242 with sparsity). No NVLink; PCIe Gen4 x16, 32 GB/s each way. Price:
  // Mélange's GPU table, $0.70/h.
  p.push_back({"l4", 23034 * kMiB, 300 * kGB, 121 * kTera, 32 * kGB, 32 * kGB, 0.70});
  return p;
}

}  // namespace

const std::vector<GpuSpec>& gpu_presets() {
  static const std::vector<GpuSpec> presets = make_gpu_presets();
  return presets;
}

const GpuSpec& gpu_preset(std::string_view name) {
  for (const GpuSpec& g : gpu_presets()) {
    if (g.name == name) return g;
  }
  std::string names;
  for (std::string_view n : kGpuPresetNames) names += (names.empty() ? "" : ", ") + std::string(n);
  throw SimError("unknown GPU preset '" + std::string(name) + "'; use one of " + names);
}

}  // namespace bricks::sim
