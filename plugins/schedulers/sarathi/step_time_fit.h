// A running least-squares fit of step time against the tokens a step computes,
//   step_seconds ~= fixed + per_token * tokens,
// with exponential forgetting (each new observation weighs 1, older ones decay by `decay`
// per observation) so that the fit follows a device whose speed drifts.
//
// While every remembered step had about the same token count the slope cannot be fitted;
// the fit then assumes no fixed cost (per_token = mean seconds / mean tokens), which
// overestimates the per-token cost and so errs towards smaller budgets.
#pragma once

#include <cstdint>

namespace bricks::sarathi {

class StepTimeFit {
 public:
  explicit StepTimeFit(double decay = 0.95) : decay_(decay) {}

  // Ignores steps with no tokens or a non-positive time.
  void add(int64_t tokens, double seconds);
  // True once a positive per-token cost is known.
  bool known() const;
  double fixed_seconds() const;
  double per_token_seconds() const;
  // The largest token count whose predicted step time is <= slo_seconds, clamped to
  // [lo, hi]; `hi` when no cost is known yet.
  int32_t largest_within(double slo_seconds, int32_t lo, int32_t hi) const;

 private:
  void fit(double& fixed, double& slope) const;

  double decay_;
  double w_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0;
};

}  // namespace bricks::sarathi
