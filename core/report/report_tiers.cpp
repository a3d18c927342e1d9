#include "report/report_tiers.h"

#include <cstdio>

namespace bricks::engine {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace

TierReport tier_report(const SimDevice& device) {
  const sim::CostModel& m = device.cost_model();
  const sim::WeightPlacement& p = m.placement();
  const SimTotals& t = device.totals();
  TierReport r;
  r.present = p.streams() || m.ssd().has_value() || t.kv_ssd_bytes > 0;
  if (!r.present) return r;
  r.ssd = m.ssd() ? m.ssd()->name : "";
  r.gpu_layers = p.gpu_layers;
  r.host_layers = p.host_layers;
  r.ssd_layers = p.ssd_layers;
  r.gpu_bytes = p.gpu_bytes();
  r.host_bytes = p.host_bytes();
  r.ssd_bytes = p.ssd_bytes();
  r.weight_host_bytes = t.weight_host_bytes;
  r.weight_ssd_bytes = t.weight_ssd_bytes;
  r.weight_transfer_s = t.parts.weight_transfer_s;
  r.weight_hidden_s = t.parts.weight_hidden_s;
  r.kv_host_bytes = t.kv_host_bytes;
  r.kv_ssd_bytes = t.kv_ssd_bytes;
  r.kv_host_s = t.kv_host_s;
  r.kv_ssd_s = t.kv_ssd_s;
  return r;
}

nlohmann::json TierReport::to_json() const {
  return {{"ssd", ssd},
          {"placement",
           {{"gpu", {{"layers", gpu_layers}, {"bytes", gpu_bytes}}},
            {"host", {{"layers", host_layers}, {"bytes", host_bytes}}},
            {"ssd", {{"layers", ssd_layers}, {"bytes", ssd_bytes}}}}},
          {"weights_streamed",
           {{"host_bytes", weight_host_bytes},
            {"ssd_bytes", weight_ssd_bytes},
            {"transfer_s", weight_transfer_s},
            {"hidden_behind_compute_s", weight_hidden_s}}},
          {"kv_copied",
           {{"host_bytes", kv_host_bytes},
            {"host_s", kv_host_s},
            {"ssd_bytes", kv_ssd_bytes},
            {"ssd_s", kv_ssd_s}}}};
}

std::string TierReport::to_table() const {
  char line[320];
  std::string out;
  std::snprintf(line, sizeof line,
                "  tiers       weights: %d layers on GPU (%.1f GiB per GPU), %d in host memory "
                "(%.1f GiB), %d on SSD %s(%.1f GiB)\n",
                gpu_layers, gpu_bytes / kGiB, host_layers, host_bytes / kGiB, ssd_layers,
                ssd.empty() ? "" : (ssd + " ").c_str(), ssd_bytes / kGiB);
  out += line;
  std::snprintf(line, sizeof line,
                "  tiers       streamed %.1f GiB from host, %.1f GiB from SSD in %.2f s, %.2f s "
                "of it hidden behind compute\n",
                weight_host_bytes / kGiB, weight_ssd_bytes / kGiB, weight_transfer_s,
                weight_hidden_s);
  out += line;
  std::snprintf(line, sizeof line,
                "  tiers       KV copied %.1f MiB to/from host memory in %.1f ms, %.1f MiB to/from "
                "SSD in %.1f ms\n",
                kv_host_bytes / (1 << 20), kv_host_s * 1e3, kv_ssd_bytes / (1 << 20),
                kv_ssd_s * 1e3);
  out += line;
  return out;
}

}  // namespace bricks::engine
