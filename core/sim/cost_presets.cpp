#include "sim/cost_presets.h"

#include <cstdio>
#include <sstream>

#include "sim/preset_text.h"
#include "sim/shipped_presets.h"
#include "sim_presets.pb.h"

namespace bricks::sim {

namespace {

constexpr double kUs = 1e-6;
constexpr double kCostMiB = 1024.0 * 1024.0;

// A share of a peak: in (0, 1].
void share(const PresetText& t, const char* field, bool has, double v) {
  if (has && !(v > 0 && v <= 1)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    t.fail(field, std::string(buf) + " is out of range", "give a share of the peak in (0, 1]");
  }
}

void not_negative(const PresetText& t, const char* field, bool has, double v) {
  if (has && !(v >= 0)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    t.fail(field, std::string(buf) + " is out of range", "give 0 or more");
  }
}

}  // namespace

CostConstants parse_cost_preset(const std::string& text, const std::string& file) {
  CostPreset p;
  const PresetText t(text, file, "cost preset", p);
  CostConstants k;
  share(t, "gemm_efficiency_max", p.has_gemm_efficiency_max(), p.gemm_efficiency_max());
  share(t, "attention_efficiency", p.has_attention_efficiency(), p.attention_efficiency());
  share(t, "memory_efficiency", p.has_memory_efficiency(), p.memory_efficiency());
  share(t, "link_efficiency", p.has_link_efficiency(), p.link_efficiency());
  share(t, "pcie_efficiency", p.has_pcie_efficiency(), p.pcie_efficiency());
  not_negative(t, "gemm_half_tokens", p.has_gemm_half_tokens(), p.gemm_half_tokens());
  not_negative(t, "gemm_half_outputs", p.has_gemm_half_outputs(), p.gemm_half_outputs());
  not_negative(t, "gemm_latency_us", p.has_gemm_latency_us(), p.gemm_latency_us());
  not_negative(t, "roofline_exponent", p.has_roofline_exponent(), p.roofline_exponent());
  not_negative(t, "allreduce_latency_us", p.has_allreduce_latency_us(), p.allreduce_latency_us());
  not_negative(t, "transfer_latency_us", p.has_transfer_latency_us(), p.transfer_latency_us());
  not_negative(t, "step_overhead_us", p.has_step_overhead_us(), p.step_overhead_us());
  not_negative(t, "layer_overhead_us", p.has_layer_overhead_us(), p.layer_overhead_us());
  not_negative(t, "runtime_reserve_mib", p.has_runtime_reserve_mib(), p.runtime_reserve_mib());
  not_negative(t, "activation_reserve_tokens", p.has_activation_reserve_tokens(),
               static_cast<double>(p.activation_reserve_tokens()));
  for (const auto& [field, has, v] :
       {std::tuple{"gemm_tile_rows", p.has_gemm_tile_rows(), p.gemm_tile_rows()},
        std::tuple{"gemm_large_tile_rows", p.has_gemm_large_tile_rows(),
                   p.gemm_large_tile_rows()}}) {
    if (has && v < 1) {
      t.fail(field, std::to_string(v) + " is out of range", "give 1 (no rounding) or more rows");
    }
  }
  not_negative(t, "gemm_large_tile_from", p.has_gemm_large_tile_from(), p.gemm_large_tile_from());

  if (p.has_gemm_efficiency_max()) k.gemm_efficiency_max = p.gemm_efficiency_max();
  if (p.has_gemm_half_tokens()) k.gemm_half_tokens = p.gemm_half_tokens();
  if (p.has_gemm_half_outputs()) k.gemm_half_outputs = p.gemm_half_outputs();
  if (p.has_gemm_latency_us()) k.gemm_latency_s = p.gemm_latency_us() * kUs;
  if (p.has_roofline_exponent()) k.roofline_exponent = p.roofline_exponent();
  if (p.has_gemm_tile_rows()) k.gemm_tile_rows = p.gemm_tile_rows();
  if (p.has_gemm_large_tile_rows()) k.gemm_large_tile_rows = p.gemm_large_tile_rows();
  if (p.has_gemm_large_tile_from()) k.gemm_large_tile_from = p.gemm_large_tile_from();
  if (p.has_attention_efficiency()) k.attention_efficiency = p.attention_efficiency();
  if (p.has_memory_efficiency()) k.memory_efficiency = p.memory_efficiency();
  if (p.has_link_efficiency()) k.link_efficiency = p.link_efficiency();
  if (p.has_pcie_efficiency()) k.pcie_efficiency = p.pcie_efficiency();
  if (p.has_allreduce_latency_us()) k.allreduce_latency_s = p.allreduce_latency_us() * kUs;
  if (p.has_transfer_latency_us()) k.transfer_latency_s = p.transfer_latency_us() * kUs;
  if (p.has_step_overhead_us()) k.step_overhead_s = p.step_overhead_us() * kUs;
  if (p.has_layer_overhead_us()) k.layer_overhead_s = p.layer_overhead_us() * kUs;
  if (p.has_runtime_reserve_mib()) k.runtime_reserve_bytes = p.runtime_reserve_mib() * kCostMiB;
  if (p.has_activation_reserve_tokens())
    k.activation_reserve_tokens = p.activation_reserve_tokens();
  return k;
}

CostConstants load_cost_constants(const std::string& name_or_path,
                                  const std::filesystem::path& base, const std::string& gpu_name) {
  if (name_or_path.empty()) {
    const ShippedPreset* fitted = find_shipped_preset("costs", gpu_name);
    if (fitted == nullptr) return CostConstants{};
    return parse_cost_preset(std::string(fitted->text), std::string(fitted->path));
  }
  const PresetSource src = find_preset("costs", name_or_path, base, "cost preset");
  return parse_cost_preset(src.text, src.file);
}

std::string format_cost_preset(const CostConstants& k, const std::string& header) {
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);)
    out << (line.empty() ? "#" : "# ") << line << "\n";
  char buf[96];
  auto put = [&](const char* field, double v) {
    std::snprintf(buf, sizeof buf, "%s: %.6g\n", field, v);
    out << buf;
  };
  put("gemm_efficiency_max", k.gemm_efficiency_max);
  put("gemm_half_tokens", k.gemm_half_tokens);
  put("gemm_half_outputs", k.gemm_half_outputs);
  put("gemm_latency_us", k.gemm_latency_s / kUs);
  put("roofline_exponent", k.roofline_exponent);
  put("gemm_tile_rows", k.gemm_tile_rows);
  put("gemm_large_tile_rows", k.gemm_large_tile_rows);
  put("gemm_large_tile_from", k.gemm_large_tile_from);
  put("attention_efficiency", k.attention_efficiency);
  put("memory_efficiency", k.memory_efficiency);
  put("link_efficiency", k.link_efficiency);
  put("pcie_efficiency", k.pcie_efficiency);
  put("allreduce_latency_us", k.allreduce_latency_s / kUs);
  put("transfer_latency_us", k.transfer_latency_s / kUs);
  put("step_overhead_us", k.step_overhead_s / kUs);
  put("layer_overhead_us", k.layer_overhead_s / kUs);
  put("runtime_reserve_mib", k.runtime_reserve_bytes / kCostMiB);
  put("activation_reserve_tokens", static_cast<double>(k.activation_reserve_tokens));
  return out.str();
}

}  // namespace bricks::sim
