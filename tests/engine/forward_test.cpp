// The engine's logits against a plain-loop Llama on the tiny f32 model, for a prefill
// and for the decode steps after it, with each attention brick.
#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "logits_match.h"
#include "naive_llama.h"

namespace bricks::testing {
namespace {

class ForwardMatchesNaive : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardMatchesNaive, PrefillAndDecodeLogits) {
  auto rt = engine::Runtime::create(make_manifest(default_bricks(GetParam())), {});
  NaiveLlama naive(*rt->model());
  expect_logits_match_naive(*rt, naive, "Once upon a time there was", 3);
}

INSTANTIATE_TEST_SUITE_P(AttentionBricks, ForwardMatchesNaive,
                         ::testing::Values("reference", "cpu_paged"));

}  // namespace
}  // namespace bricks::testing
