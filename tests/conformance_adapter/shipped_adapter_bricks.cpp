// The adapter conformance suite on the adapter bricks the project ships; a new brick joins
// the whole suite by one entry here.
#include <gtest/gtest.h>

#include "adapter_conformance.h"

int main(int argc, char** argv) {
  bricks::testing::adapter_cases() = {{"lora", "lora", {}}};
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
