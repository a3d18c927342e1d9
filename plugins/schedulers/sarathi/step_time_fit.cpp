#include "step_time_fit.h"

#include <algorithm>
#include <cmath>

namespace bricks::sarathi {

void StepTimeFit::add(int64_t tokens, double seconds) {
  if (tokens <= 0 || !(seconds > 0) || !std::isfinite(seconds)) return;
  const double x = static_cast<double>(tokens);
  w_ = w_ * decay_ + 1;
  sx_ = sx_ * decay_ + x;
  sy_ = sy_ * decay_ + seconds;
  sxx_ = sxx_ * decay_ + x * x;
  sxy_ = sxy_ * decay_ + x * seconds;
}

void StepTimeFit::fit(double& fixed, double& slope) const {
  fixed = 0;
  slope = 0;
  if (w_ <= 0 || sx_ <= 0) return;
  const double mx = sx_ / w_, my = sy_ / w_;
  const double var = sxx_ / w_ - mx * mx;
  // Token counts closer than about one token apart carry no slope.
  if (var > 0.25) {
    slope = (sxy_ / w_ - mx * my) / var;
    fixed = my - slope * mx;
    // A negative fixed cost is noise: fall back to the proportional fit.
    if (slope > 0 && fixed >= 0) return;
  }
  fixed = 0;
  slope = sy_ / sx_;
}

bool StepTimeFit::known() const {
  double fixed = 0, slope = 0;
  fit(fixed, slope);
  return slope > 0;
}

double StepTimeFit::fixed_seconds() const {
  double fixed = 0, slope = 0;
  fit(fixed, slope);
  return fixed;
}

double StepTimeFit::per_token_seconds() const {
  double fixed = 0, slope = 0;
  fit(fixed, slope);
  return slope;
}

int32_t StepTimeFit::largest_within(double slo_seconds, int32_t lo, int32_t hi) const {
  double fixed = 0, slope = 0;
  fit(fixed, slope);
  if (!(slope > 0)) return hi;
  // The epsilon keeps an exact fit from losing a token to rounding.
  const double tokens = std::floor((slo_seconds - fixed) / slope + 1e-6);
  if (!(tokens >= lo)) return lo;  // also when the fixed cost alone breaks the SLO
  if (tokens >= hi) return hi;
  return static_cast<int32_t>(tokens);
}

}  // namespace bricks::sarathi
