// The router and merger conformance suites on the experts bricks the project ships, in the
// configurations worth checking; a new brick joins its whole suite by one entry here.
#include <gtest/gtest.h>

#include "experts_conformance.h"

int main(int argc, char** argv) {
  using bricks::testing::string_param;
  bricks::testing::router_cases() = {
      {"topk", "topk", {}},
      {"neuron_partition", "neuron_partition", {}},
  };
  bricks::testing::merger_cases() = {
      {"linear", "merge", {string_param("method", "linear")}},
      {"task_arithmetic", "merge", {string_param("method", "task_arithmetic")}},
      {"ties", "merge", {string_param("method", "ties")}},
      {"dare", "merge", {string_param("method", "dare")}},
      {"slerp", "merge", {string_param("method", "slerp")}},
      {"filtered", "merge", {string_param("include", "^blk\\.0\\.")}},
  };
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
