#include "runtime/sim_setup.h"

#include <algorithm>
#include <cstdio>

#include "sim/cost_presets.h"
#include "sim/sim_error.h"
#include "sim/ssd_presets.h"
#include "sim/weight_tiers.h"

namespace bricks::engine {

namespace {

constexpr double kDefaultUtilisation = 0.9;  // vLLM's default gpu_memory_utilization
constexpr double kGB = 1e9;

std::string fmt(const char* f, double v) {
  const int n = std::snprintf(nullptr, 0, f, v);
  std::string out(static_cast<size_t>(std::max(n, 0)), '\0');
  std::snprintf(out.data(), out.size() + 1, f, v);
  return out;
}

// The tier sizes a run needs besides the cost model's placement: none below 0, a disk KV
// tier only below a host one and on an SSD. Throws SimFieldError.
void check_tier_sizes(const manifest::LoadedManifest& m) {
  const manifest::Device& d = m.proto.device();
  auto fail = [&m](const std::string& field, const std::string& what) {
    throw SimFieldError(m.file.string(), "device." + field, what);
  };
  for (const auto& [field, v] : {std::pair{"weight_memory_bytes", d.weight_memory_bytes()},
                                 {"host_memory_bytes", d.host_memory_bytes()},
                                 {"disk_kv_bytes", d.disk_kv_bytes()},
                                 {"host_kv_bytes", d.host_kv_bytes()}}) {
    if (v < 0) fail(field, std::to_string(v) + " is below 0; give a size in bytes, or 0");
  }
  if (d.disk_kv_bytes() > 0 && d.host_kv_bytes() <= 0) {
    fail("disk_kv_bytes",
         "a disk KV tier sits below the host tier and there is none; set "
         "device.host_kv_bytes above 0 or remove disk_kv_bytes");
  }
  if (d.disk_kv_bytes() > 0 && d.ssd().empty()) {
    fail("disk_kv_bytes",
         "the sim device keeps the disk KV tier on its SSD and there is none; "
         "set device.ssd (e.g. nvme-gen4) or remove disk_kv_bytes");
  }
}

}  // namespace

SimSetup make_sim_setup(const manifest::LoadedManifest& m, const SimInstanceShape& shape) {
  const manifest::Device& d = m.proto.device();
  auto fail = [&m](const std::string& field, const std::string& what) {
    throw SimFieldError(m.file.string(), "device." + field, what);
  };
  if (d.gpu().empty() && shape.gpu == nullptr) {
    fail("gpu", "the sim device needs a GPU preset; set device.gpu");
  }
  if (d.sim_model().empty()) {
    fail("sim_model", "the sim device needs a model preset; set device.sim_model");
  }

  sim::GpuSpec gpu;
  sim::ModelSpec model;
  sim::CostConstants constants;
  try {
    gpu = shape.gpu != nullptr ? *shape.gpu : sim::load_gpu(d.gpu(), m.base_dir());
  } catch (const sim::SimError& e) {
    fail("gpu", e.what());
  }
  try {
    model = sim::load_model(d.sim_model(), m.base_dir());
  } catch (const sim::SimError& e) {
    fail("sim_model", e.what());
  }
  try {
    constants = sim::load_cost_constants(d.cost_model(), m.base_dir(), gpu.name);
  } catch (const sim::SimError& e) {
    fail("cost_model", e.what());
  }

  if (!d.kv_dtype().empty() && d.kv_dtype() != "f32" && d.kv_dtype() != "f16") {
    fail("kv_dtype", "'" + d.kv_dtype() + "' is not supported; use f16 or f32");
  }
  SimSetup out;
  out.kv_dtype = d.kv_dtype() == "f32" ? BRICKS_DTYPE_F32 : BRICKS_DTYPE_F16;
  sim::CostModelOptions o;
  o.tensor_parallel = d.tensor_parallel() > 0 ? d.tensor_parallel() : 1;
  o.kv_element_bytes = out.kv_dtype == BRICKS_DTYPE_F32 ? 4 : 2;
  o.pcie_bytes_per_s = d.pcie_gb_per_s() * kGB;
  o.link_bytes_per_s = d.link_gb_per_s() * kGB;
  o.pipeline = shape.pipeline;
  o.micro_batches = shape.micro_batches;
  o.constants = constants;
  const double utilisation =
      d.gpu_memory_utilization() > 0 ? d.gpu_memory_utilization() : kDefaultUtilisation;
  if (d.gpu_memory_utilization() < 0 || d.gpu_memory_utilization() > 1) {
    fail("gpu_memory_utilization",
         fmt("%g is outside (0, 1]; give a share of memory such as 0.9", utilisation));
  }

  o.tiers.gpu_weight_bytes = static_cast<double>(d.weight_memory_bytes());
  o.tiers.host_memory_bytes = static_cast<double>(d.host_memory_bytes());
  o.tiers.host_kv_bytes = static_cast<double>(d.host_kv_bytes());
  o.tiers.overlap = d.overlap_swaps();
  o.tiers.gpu_memory_utilization = utilisation;
  if (!d.ssd().empty()) {
    try {
      o.tiers.ssd = sim::load_ssd(d.ssd(), m.base_dir());
    } catch (const sim::SimError& e) {
      fail("ssd", e.what());
    }
  }
  check_tier_sizes(m);

  std::unique_ptr<sim::CostModel> cost;
  try {
    cost = std::make_unique<sim::CostModel>(gpu, model, o);
  } catch (const sim::TierError& e) {
    fail(e.field(), e.what());
  } catch (const sim::SimError& e) {
    fail("tensor_parallel", e.what());
  }
  try {
    out.kv_capacity_bytes = cost->kv_capacity_bytes(utilisation);
  } catch (const sim::SimError& e) {
    fail("sim_model", e.what());
  }
  if (!d.calibration_file().empty()) {
    // The table's own errors name its file and line.
    sim::CalibrationTable table = sim::CalibrationTable::load(m.resolve(d.calibration_file()));
    try {
      cost->set_calibration(std::move(table));
    } catch (const sim::SimError& e) {
      fail("calibration_file", e.what());
    }
  }
  out.kv_cache_bytes = d.kv_cache_bytes() > 0 ? d.kv_cache_bytes() : out.kv_capacity_bytes;
  out.host_kv_bytes = d.host_kv_bytes() + d.disk_kv_bytes();
  out.config = model.config;

  const double gib = static_cast<double>(1ll << 30);
  out.summary =
      "sim: " + cost->describe() + "; kv " + (out.kv_dtype == BRICKS_DTYPE_F32 ? "f32 " : "f16 ") +
      fmt("%.1f GiB", static_cast<double>(out.kv_cache_bytes) / gib) +
      (d.kv_cache_bytes() > 0
           ? " (device.kv_cache_bytes; " +
                 fmt("%.1f GiB", static_cast<double>(out.kv_capacity_bytes) / gib) + " would fit)"
           : " (fits at " + fmt("%.2f", utilisation) + " of memory)") +
      "; swaps over " + fmt("%.0f GB/s", cost->pcie_bytes_per_s() / kGB) +
      (d.overlap_swaps() ? ", overlapped with compute" : ", before compute") +
      (d.disk_kv_bytes() > 0
           ? fmt("; host KV tier %.1f GiB", static_cast<double>(d.host_kv_bytes()) / gib) +
                 fmt(" + %.1f GiB on ", static_cast<double>(d.disk_kv_bytes()) / gib) +
                 o.tiers.ssd->name
           : "") +
      "; no model file, synthetic tokens, the attention brick is created but unused";
  SimDeviceOptions so;
  so.overlap_swaps = d.overlap_swaps();
  if (d.disk_kv_bytes() > 0) so.host_memory_kv_bytes = d.host_kv_bytes();
  so.summary = out.summary;
  out.device = std::make_unique<SimDevice>(std::move(*cost), so);
  return out;
}

}  // namespace bricks::engine
