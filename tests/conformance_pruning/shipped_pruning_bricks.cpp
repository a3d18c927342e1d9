// The pruning conformance suite on the pruning bricks the project ships; a new brick joins
// the whole suite by one entry here.
#include <gtest/gtest.h>

#include "pruning_conformance.h"

int main(int argc, char** argv) {
  using bricks::testing::int_param;
  bricks::testing::pruning_cases() = {
      {"fastv", "fastv", {int_param("layer", 3)}, 3, "keep_ratio"},
      {"atp", "atp", {int_param("layer", 3)}, 3, "target_keep", 0.25},
  };
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
