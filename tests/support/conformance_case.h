// The bricks a conformance suite runs on, chosen when the program starts. Each suite
// instantiates its tests with ::testing::ValuesIn over its kind's list, and GoogleTest reads
// those generators inside InitGoogleTest: a program fills the lists before calling it. The
// shipped suites' programs fill them with the bricks the project ships (in the
// configurations worth checking); bricks-conform with the bricks of the plugin it was given.
#pragma once

#include <gtest/gtest.h>

#include <map>
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

// The case lists of the suites linked into this program whose cases are plain BrickCases,
// by kind. Each such suite's header registers its list (an inline variable beside the list),
// so bricks-conform fills the list of a brick's kind without naming the suite: a new kind's
// suite needs no line in bricks-conform, only its object library in
// BRICKS_CONFORMANCE_SUITES (tests/CMakeLists.txt links them all into bricks-conform).
inline std::map<bricks_kind, std::vector<BrickCase>*>& brick_case_lists() {
  static std::map<bricks_kind, std::vector<BrickCase>*> lists;
  return lists;
}

// Adds `list` as the cases of `kind`; returns true (for an inline variable's initialiser).
inline bool register_brick_cases(bricks_kind kind, std::vector<BrickCase>& list) {
  brick_case_lists()[kind] = &list;
  return true;
}

}  // namespace bricks::testing
