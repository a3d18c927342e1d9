#include "sim/weight_tiers.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace bricks::sim {

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / static_cast<double>(1ll << 30));
  return buf;
}

std::string bytes_text(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::ceil(bytes));
  return buf;
}

}  // namespace

WeightPlacement place_weights(const WeightShape& shape, double gpu_budget,
                              const WeightTierOptions& options) {
  WeightPlacement p;
  p.layer_bytes = shape.layer_bytes;
  p.fixed_bytes = shape.fixed_bytes;
  p.tensor_parallel = shape.tensor_parallel;
  const int32_t n = shape.layers;
  const double all = shape.fixed_bytes + n * shape.layer_bytes;
  const char* budget_field =
      options.gpu_weight_bytes > 0 ? "weight_memory_bytes" : "gpu_memory_utilization";
  if (all <= gpu_budget || n == 0) {
    p.gpu_layers = n;
    p.layers.assign(static_cast<size_t>(n), WeightTier::kGpu);
    return p;
  }
  const double least = shape.fixed_bytes + 2 * shape.layer_bytes;
  if (gpu_budget < least) {
    throw TierError(budget_field,
                    shape.model + " streams layers of " + gib(shape.layer_bytes) +
                        " per GPU and keeps its embeddings and output projection (" +
                        gib(shape.fixed_bytes) + ") on the GPU: with two staging buffers that " +
                        "is " + gib(least) + ", more than the " + gib(gpu_budget) +
                        " of GPU memory left to weights; give device.weight_memory_bytes at "
                        "least " +
                        bytes_text(least) + ", or a larger GPU");
  }
  p.staging_bytes = 2 * shape.layer_bytes;
  p.gpu_layers = std::clamp(
      static_cast<int32_t>(std::floor((gpu_budget - least) / shape.layer_bytes)), 0, n - 1);
  const int32_t streamed = n - p.gpu_layers;

  const double full_layer = shape.layer_bytes * shape.tensor_parallel;
  p.host_layers = streamed;
  if (options.host_memory_bytes > 0) {
    const double host_free = options.host_memory_bytes - options.host_kv_bytes;
    if (host_free < 0) {
      throw TierError("host_memory_bytes",
                      "device.host_memory_bytes (" + gib(options.host_memory_bytes) +
                          ") is smaller than device.host_kv_bytes (" + gib(options.host_kv_bytes) +
                          "), which lives in it; raise host_memory_bytes or lower host_kv_bytes");
    }
    p.host_layers = std::min(streamed, static_cast<int32_t>(std::floor(host_free / full_layer)));
  }
  p.ssd_layers = streamed - p.host_layers;
  if (p.ssd_layers > 0 && !options.ssd) {
    const double need = static_cast<double>(streamed) * full_layer + options.host_kv_bytes;
    throw TierError("ssd", shape.model + " keeps " + std::to_string(p.gpu_layers) + " of " +
                               std::to_string(n) + " layers on the GPU; the other " +
                               std::to_string(streamed) + " (" + gib(streamed * full_layer) +
                               ") need host memory, and device.host_memory_bytes leaves room "
                               "for " +
                               std::to_string(p.host_layers) + ": " + std::to_string(p.ssd_layers) +
                               " layers (" + gib(p.ssd_layers * full_layer) +
                               ") are left for an SSD and there is none; set device.ssd (e.g. "
                               "nvme-gen4) or raise device.host_memory_bytes to at least " +
                               bytes_text(need));
  }
  p.layers.resize(static_cast<size_t>(n));
  int32_t seen = 0;
  for (int32_t l = 0; l < n; ++l) {
    const bool streams =
        (static_cast<int64_t>(l) + 1) * streamed / n > static_cast<int64_t>(l) * streamed / n;
    if (!streams) {
      p.layers[l] = WeightTier::kGpu;
      continue;
    }
    p.layers[l] = seen < p.host_layers ? WeightTier::kHost : WeightTier::kSsd;
    ++seen;
  }
  return p;
}

double layer_transfer_seconds(WeightTier tier, double layer_bytes, int32_t tensor_parallel,
                              double pcie_bytes_per_s, double copy_latency_s,
                              const std::optional<SsdSpec>& ssd) {
  switch (tier) {
    case WeightTier::kGpu:
      return 0.0;
    case WeightTier::kHost:
      return copy_latency_s + layer_bytes / pcie_bytes_per_s;
    case WeightTier::kSsd:
      if (!ssd) throw SimError("a layer placed on the SSD with no SSD configured");
      return ssd->latency_s + std::max(layer_bytes / pcie_bytes_per_s,
                                       tensor_parallel * layer_bytes / ssd->read_bytes_per_s);
  }
  return 0.0;
}

LayerPipeline layer_pipeline(std::span<const double> transfer, double compute_s, bool overlap) {
  LayerPipeline out;
  for (double t : transfer) out.transfer_s += t;
  const double compute_all = compute_s * static_cast<double>(transfer.size());
  if (!overlap) {
    out.seconds = compute_all + out.transfer_s;
    return out;
  }
  double copy_free = 0, computed = 0;
  std::array<double, 2> buffer_free = {0, 0};  // when each staging buffer's layer computed
  size_t streamed = 0;
  for (double t : transfer) {
    if (t <= 0) {
      computed += compute_s;
      continue;
    }
    double& buffer = buffer_free[streamed++ % 2];
    const double arrived = std::max(copy_free, buffer) + t;
    copy_free = arrived;
    computed = std::max(computed, arrived) + compute_s;
    buffer = computed;
  }
  out.seconds = computed;
  out.hidden_s = std::max(0.0, compute_all + out.transfer_s - computed);
  return out;
}

}  // namespace bricks::sim
