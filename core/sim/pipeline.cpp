#include "sim/pipeline.h"

#include <algorithm>
#include <cmath>

namespace bricks::sim {

std::vector<int32_t> even_layers(int32_t layers, int32_t stages) {
  std::vector<int32_t> out;
  if (stages < 1) return out;
  for (int32_t s = 0; s < stages; ++s) out.push_back(layers / stages + (s < layers % stages));
  return out;
}

double pipeline_seconds(const std::vector<std::vector<double>>& t) {
  double fill = 0, bottleneck = 0;
  std::vector<double> busy;
  for (const std::vector<double>& row : t) {
    double trip = 0;
    busy.resize(std::max(busy.size(), row.size()), 0.0);
    for (size_t s = 0; s < row.size(); ++s) {
      trip += row[s];
      busy[s] += row[s];
    }
    fill = std::max(fill, trip);
  }
  for (double b : busy) bottleneck = std::max(bottleneck, b);
  return std::max(fill, bottleneck);
}

std::vector<size_t> split_micro_batches(std::span<const SeqWork> seqs, int32_t parts) {
  const size_t n = seqs.size();
  std::vector<size_t> starts;
  if (n == 0) return {0};
  const size_t groups = std::min(n, static_cast<size_t>(std::max(parts, 1)));
  double left = 0;
  for (const SeqWork& s : seqs) left += s.new_tokens;
  size_t i = 0;
  for (size_t g = 0; g < groups; ++g) {
    starts.push_back(i);
    const size_t later = groups - g - 1;  // groups after this one, one sequence each at least
    if (later == 0) break;                // the last group takes the rest
    const double share = left / static_cast<double>(groups - g);
    double tokens = seqs[i++].new_tokens;
    while (i < n - later &&
           std::abs(tokens + seqs[i].new_tokens - share) < std::abs(tokens - share)) {
      tokens += seqs[i++].new_tokens;
    }
    left -= tokens;
  }
  starts.push_back(n);
  return starts;
}

}  // namespace bricks::sim
