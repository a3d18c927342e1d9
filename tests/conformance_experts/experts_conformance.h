// The experts conformance suites run on every router in router_cases() and every merger in
// merger_cases() (conformance_case.h says who fills them).
#pragma once

#include <vector>

#include "conformance_case.h"

namespace bricks::testing {

inline std::vector<BrickCase>& router_cases() {
  static std::vector<BrickCase> cases;
  return cases;
}
inline const bool kRouterCasesRegistered = register_brick_cases(BRICKS_KIND_ROUTER, router_cases());

inline std::vector<BrickCase>& merger_cases() {
  static std::vector<BrickCase> cases;
  return cases;
}
inline const bool kMergerCasesRegistered = register_brick_cases(BRICKS_KIND_MERGER, merger_cases());

}  // namespace bricks::testing
