#include "engine/weight_plan.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace bricks::engine {
namespace {

constexpr int32_t kRingSlots = 2;  // why two: weight_plan.h

std::string gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  return buf;
}

// `k` of `n` layers, spread evenly: layer floor((j + 1/2) n / k) for j < k.
std::vector<bool> spread(int32_t n, int32_t k) {
  std::vector<bool> out(static_cast<size_t>(n), false);
  for (int32_t j = 0; j < k; ++j) {
    const int64_t l = ((2 * int64_t{j} + 1) * n) / (2 * int64_t{k});
    out[static_cast<size_t>(l)] = true;
  }
  return out;
}

}  // namespace

int32_t WeightPlan::num_streamed() const {
  return static_cast<int32_t>(std::count(streamed.begin(), streamed.end(), true));
}

double WeightPlan::read_s() const {
  return disk_bytes_per_s > 0 ? static_cast<double>(streamed_bytes) / disk_bytes_per_s : 0.0;
}

double WeightPlan::compute_s() const {
  return compute_bytes_per_s > 0 ? static_cast<double>(total_bytes) / compute_bytes_per_s : 0.0;
}

double WeightPlan::step_s() const {
  if (read_s() == 0 && num_streamed() > 0) return 0.0;
  return std::max(read_s(), compute_s());
}

std::string WeightPlan::describe() const {
  const int32_t n = static_cast<int32_t>(streamed.size());
  if (num_streamed() == 0) return "all " + std::to_string(n) + " layers resident";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%d of %d layers read from disk per step through %d buffers of %.1f MiB; "
                "resident %s of %s",
                num_streamed(), n, ring_slots, static_cast<double>(slot_bytes) / (1 << 20),
                gb(static_cast<double>(resident_bytes)).c_str(),
                gb(static_cast<double>(total_bytes)).c_str());
  std::string s = buf;
  if (disk_bytes_per_s > 0 && compute_bytes_per_s > 0) {
    std::snprintf(buf, sizeof buf, "; disk %.2f GB/s, compute %.1f GB/s: %.2f decode steps/s (%s)",
                  disk_bytes_per_s / 1e9, compute_bytes_per_s / 1e9, 1.0 / step_s(),
                  read_s() >= compute_s() ? "disk-bound" : "compute-bound");
    s += buf;
  }
  return s;
}

WeightPlan plan_weights(const WeightPlanInput& in) {
  const int32_t n = static_cast<int32_t>(in.layer_bytes.size());
  WeightPlan p;
  p.disk_bytes_per_s = in.disk_bytes_per_s;
  p.compute_bytes_per_s = in.compute_bytes_per_s;
  const int64_t layers = std::accumulate(in.layer_bytes.begin(), in.layer_bytes.end(), int64_t{0});
  p.total_bytes = in.fixed_bytes + layers;
  p.streamed.assign(static_cast<size_t>(n), false);
  p.resident_bytes = p.total_bytes;
  if (in.budget_bytes <= 0 || p.total_bytes <= in.budget_bytes || n == 0) return p;

  const int64_t slot = *std::max_element(in.layer_bytes.begin(), in.layer_bytes.end());
  const int64_t least = in.fixed_bytes + kRingSlots * slot;
  if (in.budget_bytes < least) {
    throw std::invalid_argument(
        "device.weight_memory_bytes is " + std::to_string(in.budget_bytes) +
        " bytes, less than the " + std::to_string(least) +
        " that reading layers from disk needs (" + std::to_string(in.fixed_bytes) +
        " always resident: embeddings, output head and norms; " + std::to_string(kRingSlots) +
        " buffers of " + std::to_string(slot) + " for the largest layer); give at least " +
        std::to_string(least) + ", or 0 to keep all " + std::to_string(p.total_bytes) +
        " bytes resident");
  }
  p.ring_slots = kRingSlots;
  p.slot_bytes = slot;
  // Fewest streamed layers whose spread leaves the rest within the budget (layers may differ
  // in size: a q4_k_m file gives some layers q6_k matrices).
  for (int32_t k = 1; k <= n; ++k) {
    std::vector<bool> s = spread(n, k);
    int64_t resident = least;
    for (int32_t l = 0; l < n; ++l) {
      if (!s[static_cast<size_t>(l)]) resident += in.layer_bytes[static_cast<size_t>(l)];
    }
    if (resident > in.budget_bytes) continue;
    p.streamed = std::move(s);
    p.resident_bytes = resident;
    break;
  }
  p.streamed_bytes = 0;
  for (int32_t l = 0; l < n; ++l) {
    if (p.streamed[static_cast<size_t>(l)])
      p.streamed_bytes += in.layer_bytes[static_cast<size_t>(l)];
  }
  return p;
}

}  // namespace bricks::engine
