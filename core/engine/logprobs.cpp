#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace bricks::engine {

GeneratedLogprobs logprobs_of(std::span<const float> logits, int32_t chosen, int32_t top) {
  float mx = -INFINITY;
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  auto lp = [&](int32_t id) {
    return static_cast<float>(logits[static_cast<size_t>(id)] - lse);
  };
  GeneratedLogprobs g;
  g.logprob = lp(chosen);
  const auto k = static_cast<size_t>(std::clamp<int64_t>(top, 0, static_cast<int64_t>(logits.size())));
  if (k == 0) return g;
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  auto more_likely = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    more_likely);
  g.top.reserve(k);
  for (size_t i = 0; i < k; ++i) g.top.push_back({ids[i], lp(ids[i])});
  return g;
}

}  // namespace bricks::engine
