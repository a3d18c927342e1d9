// The attention conformance suite runs on every brick in attention_cases()
// (conformance_case.h says who fills it), each against the shipped `reference` brick.
#pragma once

#include <vector>

#include "conformance_case.h"

namespace bricks::testing {

inline std::vector<BrickCase>& attention_cases() {
  static std::vector<BrickCase> cases;
  return cases;
}
inline const bool kAttentionCasesRegistered =
    register_brick_cases(BRICKS_KIND_ATTENTION, attention_cases());

}  // namespace bricks::testing
