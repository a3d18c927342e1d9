// The attention conformance suite on the attention bricks the project ships, in the
// configurations worth checking; a new brick joins the whole suite by one entry here.
#include <gtest/gtest.h>

#include "attention_conformance.h"

int main(int argc, char** argv) {
  using bricks::testing::int_param;
  using bricks::testing::string_param;
  bricks::testing::attention_cases() = {
      {"reference", "reference", {}},
      {"cpu_paged", "cpu_paged", {}},
      {"cpu_paged_chunk7", "cpu_paged", {int_param("kv_chunk_size", 7)}},
      {"cpu_paged_avx2", "cpu_paged", {string_param("simd", "avx2")}},
      {"cpu_paged_scalar", "cpu_paged", {string_param("simd", "scalar")}},
  };
#if BRICKS_TEST_CUDA
  // Skipped, with the reason, where no GPU is present.
  bricks::testing::attention_cases().push_back({"cuda_paged", "cuda_paged", {}});
  bricks::testing::attention_cases().push_back(
      {"cuda_paged_chunk64", "cuda_paged", {int_param("kv_chunk_size", 64)}});
#endif
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
