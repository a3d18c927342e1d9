#include "sim/gpu_presets.h"

#include "sim/preset_names.h"
#include "sim/preset_text.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim_presets.pb.h"

namespace bricks::sim {

namespace {

constexpr double kGB = 1e9;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kTera = 1e12;

std::vector<GpuSpec> make_gpu_presets() {
  return parse_shipped_presets<GpuSpec>("gpus", kGpuPresetNames, parse_gpu_preset);
}

}  // namespace

GpuSpec parse_gpu_preset(const std::string& text, const std::string& file) {
  GpuPreset p;
  const PresetText t(text, file, "GPU preset", p);
  t.require("name", "give the name reports show, e.g. name: \"a100-80gb\"");
  const std::pair<const char*, double> numbers[] = {
      {"memory_mib", p.memory_mib()},       {"hbm_gb_per_s", p.hbm_gb_per_s()},
      {"bf16_tflops", p.bf16_tflops()},     {"link_gb_per_s", p.link_gb_per_s()},
      {"pcie_gb_per_s", p.pcie_gb_per_s()}, {"price_per_hour", p.price_per_hour()}};
  for (const auto& [field, value] : numbers) {
    t.require(field, "give it, with its source in a comment (see core/sim/presets/gpus/)");
    t.positive(field, value, "give the GPU's value in the unit the field's name says");
  }
  GpuSpec g;
  g.name = p.name();
  g.memory_bytes = p.memory_mib() * kMiB;
  g.hbm_bytes_per_s = p.hbm_gb_per_s() * kGB;
  g.bf16_flops = p.bf16_tflops() * kTera;
  g.link_bytes_per_s = p.link_gb_per_s() * kGB;
  g.pcie_bytes_per_s = p.pcie_gb_per_s() * kGB;
  g.price_per_hour = p.price_per_hour();
  return g;
}

GpuSpec load_gpu(const std::string& name_or_path, const std::filesystem::path& base) {
  for (const GpuSpec& g : gpu_presets()) {
    if (g.name == name_or_path) return g;
  }
  const PresetSource src = find_preset("gpus", name_or_path, base, "GPU preset");
  return parse_gpu_preset(src.text, src.file);
}

const std::vector<GpuSpec>& gpu_presets() {
  static const std::vector<GpuSpec> presets = make_gpu_presets();
  return presets;
}

const GpuSpec& gpu_preset(std::string_view name) {
  for (const GpuSpec& g : gpu_presets()) {
    if (g.name == name) return g;
  }
  throw SimError("unknown GPU preset '" + std::string(name) + "'; use one of " +
                 shipped_names("gpus"));
}

}  // namespace bricks::sim
