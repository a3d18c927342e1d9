// The kv conformance suite on every kv brick the project ships; a new one joins the whole
// suite by one entry here.
#include <gtest/gtest.h>

#include "kv_fixture.h"

int main(int argc, char** argv) {
  bricks::testing::kv_cases() = {
      {"paged", "paged", {}},
      {"prefix_tree", "prefix_tree", {}},
      {"block_group", "block_group", {}},
  };
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
