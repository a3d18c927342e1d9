// The pruning conformance suite's cases: a pruning brick in one configuration and what the
// suite may check of it. The suite runs on every case in pruning_cases()
// (conformance_case.h says who fills it).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "conformance_case.h"

namespace bricks::testing {

struct PruningCase {
  std::string label;  // the test-name suffix: letters, digits and '_'
  std::string name;
  std::vector<ParamSetting> params;  // every other declared param at its default
  int32_t prune_layer = -1;          // the layer `params` make it prune after; -1: not known
  // The float param that sets the share of prunable tokens kept; "": none known, and the
  // ratio checks are skipped. 0 slack: the share is kept exactly (round(ratio * prunable));
  // an adaptive brick keeps within ratio_slack * prunable of it, and never fewer tokens for
  // a higher ratio.
  std::string ratio_param;
  double ratio_slack = 0.0;
};

// How test listings show a case.
inline void PrintTo(const PruningCase& c, std::ostream* os) { *os << c.name; }

inline std::vector<PruningCase>& pruning_cases() {
  static std::vector<PruningCase> cases;
  return cases;
}

}  // namespace bricks::testing
