#include "atp_rule.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace atp {

double normal_quantile(double p) {
  // Bisection on the normal CDF: 60 halvings of [-10, 10] are far below double precision
  // needs here and the call happens once per select.
  double lo = -10.0, hi = 10.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double cdf = 0.5 * std::erfc(-mid / std::sqrt(2.0));
    (cdf < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

// values[i] / mean(values), or all ones when the mean is not positive.
std::vector<double> over_mean(std::vector<double> values) {
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  const double mean = values.empty() ? 0.0 : sum / static_cast<double>(values.size());
  for (double& v : values) v = mean > 0.0 && std::isfinite(mean) ? v / mean : 1.0;
  return values;
}

double finite_or_zero(float v) { return std::isfinite(v) ? static_cast<double>(v) : 0.0; }

}  // namespace

std::vector<int32_t> select(const Settings& s, const bricks_prune_input& in) {
  std::vector<int32_t> keep;
  std::vector<int32_t> cand;
  for (int32_t i = 0; i < in.num_tokens; ++i) {
    (in.prunable[i] != 0 ? cand : keep).push_back(i);
  }
  const auto P = static_cast<int32_t>(cand.size());
  if (P == 0 || s.target_keep >= 1.0) {
    keep.insert(keep.end(), cand.begin(), cand.end());
    std::sort(keep.begin(), keep.end());
    return keep;
  }

  std::vector<double> text(static_cast<size_t>(P));
  for (int32_t c = 0; c < P; ++c) text[c] = finite_or_zero(in.text_scores[cand[c]]);
  std::vector<double> score = over_mean(std::move(text));
  if (in.self_scores != nullptr && P > 1) {
    std::vector<double> received(static_cast<size_t>(P), 0.0);
    for (int32_t i = 0; i < P; ++i) {
      const float* row = in.self_scores + static_cast<int64_t>(i) * P;
      for (int32_t j = 0; j < P; ++j) {
        if (j != i) received[j] += finite_or_zero(row[j]);
      }
    }
    const std::vector<double> self = over_mean(std::move(received));
    for (int32_t c = 0; c < P; ++c) {
      score[c] = s.text_weight * score[c] + (1.0 - s.text_weight) * self[c];
    }
  }

  // Rank: best score first, lower index among equals.
  std::vector<int32_t> order(static_cast<size_t>(P));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return score[a] > score[b]; });

  const double mean = std::accumulate(score.begin(), score.end(), 0.0) / P;
  double var = 0.0;
  for (double v : score) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / P);
  int32_t count = 0;
  if (sd > 1e-12 * std::max(1.0, std::fabs(mean))) {
    const double z = s.target_keep <= 0.0 ? INFINITY : normal_quantile(1.0 - s.target_keep);
    const double threshold = mean + z * sd;
    for (double v : score) count += v >= threshold ? 1 : 0;
  } else {
    // Scores that say nothing apart: the target share, by position.
    count = static_cast<int32_t>(std::lround(s.target_keep * P));
  }
  const auto lo = static_cast<int32_t>(std::ceil(s.min_keep * P - 1e-9));
  const auto hi = static_cast<int32_t>(std::floor(s.max_keep * P + 1e-9));
  count = std::clamp(count, std::min(lo, hi), std::max(lo, hi));

  std::vector<uint8_t> kept(static_cast<size_t>(P), 0);
  for (int32_t r = 0; r < count; ++r) kept[order[r]] = 1;

  if (s.cell > 0 && in.grid_xy != nullptr && in.grid_w > 0 && in.grid_h > 0) {
    const int32_t cw = (in.grid_w + s.cell - 1) / s.cell;
    const int32_t ch = (in.grid_h + s.cell - 1) / s.cell;
    std::vector<int32_t> best(static_cast<size_t>(cw) * ch, -1);
    std::vector<uint8_t> covered(best.size(), 0);
    for (int32_t r = 0; r < P; ++r) {  // rank order: the first seen in a cell is its best
      const int32_t c = order[r];
      const int32_t x = in.grid_xy[2 * cand[c]];
      const int32_t y = in.grid_xy[2 * cand[c] + 1];
      if (x < 0 || y < 0 || x >= in.grid_w || y >= in.grid_h) continue;
      const size_t cell = static_cast<size_t>(y / s.cell) * cw + x / s.cell;
      if (best[cell] < 0) best[cell] = c;
      if (kept[c]) covered[cell] = 1;
    }
    for (size_t cell = 0; cell < best.size(); ++cell) {
      if (!covered[cell] && best[cell] >= 0) kept[best[cell]] = 1;
    }
  }
  for (int32_t c = 0; c < P; ++c) {
    if (kept[c]) keep.push_back(cand[c]);
  }
  std::sort(keep.begin(), keep.end());
  return keep;
}

}  // namespace atp
