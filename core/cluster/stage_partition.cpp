#include "cluster/stage_partition.h"

#include <algorithm>

namespace bricks::engine {

std::vector<int32_t> adaptive_layers(int32_t layers, const std::vector<double>& layer_s,
                                     const std::vector<std::vector<double>>& fixed_s,
                                     const std::vector<std::vector<double>>& nic_s) {
  const size_t stages = fixed_s.empty() ? 0 : fixed_s.front().size();
  std::vector<int32_t> out(stages, 1);
  if (stages == 0) return out;
  auto time = [&](size_t s, int32_t n) {
    double t = 0;
    for (size_t i = 0; i < fixed_s.size(); ++i) {
      t = std::max(t, n * layer_s[i] + fixed_s[i][s]);
      if (i < nic_s.size()) t = std::max(t, n * nic_s[i][s]);
    }
    return t;
  };
  for (int32_t given = static_cast<int32_t>(stages); given < layers; ++given) {
    size_t best = 0;
    for (size_t s = 1; s < stages; ++s) {
      if (time(s, out[s] + 1) < time(best, out[best] + 1)) best = s;
    }
    ++out[best];
  }
  return out;
}

}  // namespace bricks::engine
