// The adapter conformance suite runs on every brick in adapter_cases()
// (conformance_case.h says who fills it).
#pragma once

#include <vector>

#include "conformance_case.h"

namespace bricks::testing {

inline std::vector<BrickCase>& adapter_cases() {
  static std::vector<BrickCase> cases;
  return cases;
}
inline const bool kAdapterCasesRegistered =
    register_brick_cases(BRICKS_KIND_ADAPTER, adapter_cases());

}  // namespace bricks::testing
