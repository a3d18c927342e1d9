// The bricks a conformance suite runs on, chosen when the program starts. Each suite
// instantiates its tests with ::testing::ValuesIn over its kind's list, and GoogleTest reads
// those generators inside InitGoogleTest: a program fills the lists before calling it. The
// shipped suites' programs fill them with the bricks the project ships (in the
// configurations worth checking); bricks-conform with the bricks of the plugin it was given.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {

// One brick in one configuration.
struct BrickCase {
  std::string label;                 // the test-name suffix: letters, digits and '_'
  std::string name;                  // the brick's name
  std::vector<ParamSetting> params;  // every other declared param at its default
};

inline std::string brick_case_label(const ::testing::TestParamInfo<BrickCase>& info) {
  return info.param.label;
}

// How test listings show a case (GoogleTest prints the bytes of a struct otherwise).
inline void PrintTo(const BrickCase& c, std::ostream* os) { *os << c.name; }

// `params` with each of `overrides` replacing the setting of the same name, or added.
inline std::vector<ParamSetting> with_params(std::vector<ParamSetting> params,
                                             const std::vector<ParamSetting>& overrides) {
  for (const ParamSetting& o : overrides) {
    bool replaced = false;
    for (ParamSetting& p : params) {
      if (p.name == o.name) {
        p = o;
        replaced = true;
      }
    }
    if (!replaced) params.push_back(o);
  }
  return params;
}

}  // namespace bricks::testing
