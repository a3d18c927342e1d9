// The scheduler conformance suite's cases: a scheduler brick, the kv brick it is wired to,
// and the limits its params promise, which the simulated engine checks every plan against.
// The suite runs on every case in scheduler_cases() (conformance_case.h says who fills it).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "conformance_case.h"
#include "sim_engine.h"

namespace bricks::testing {

struct SchedulerCase {
  std::string label;  // the test-name suffix: letters, digits and '_'
  std::string scheduler;
  std::string kv;
  std::vector<ParamSetting> scheduler_params;
  std::vector<ParamSetting> kv_params;
  SimLimits limits;     // what scheduler_params promise
  int32_t host_blocks;  // host tier for swap
  // The seeded workloads fill the pool, so a scheduler that preempts under pressure does so
  // there; a case that says it must proves that the workloads press hard enough. A
  // scheduler that never preempts (it reserves KV before admitting) is not held to it.
  bool must_preempt = true;
};

// How test listings show a case.
inline void PrintTo(const SchedulerCase& c, std::ostream* os) {
  *os << c.scheduler << " on " << c.kv;
}

// The cases the suite runs on.
inline std::vector<SchedulerCase>& scheduler_cases() {
  static std::vector<SchedulerCase> cases;
  return cases;
}

}  // namespace bricks::testing
