// The engine's MoE logits against a plain per-token loop (per chosen expert, dense
// matvecs) on moe-tiny, for a prefill and the decode steps after it; and the errors of a
// MoE model wired without its router.
#include <gtest/gtest.h>

#include "logits_match.h"
#include "moe_fixture.h"
#include "naive_moe.h"

namespace bricks::testing {
namespace {

TEST(MoeForward, PrefillAndDecodeLogitsMatchNaiveLoop) {
  auto rt = engine::Runtime::create(moe_manifest(moe_model_path(), "topk"), {});
  EXPECT_NE(rt->device_summary().find("2 of 4 experts"), std::string::npos) << rt->device_summary();
  NaiveMoe naive(*rt->model());
  expect_logits_match_naive(*rt, naive, "Once upon a time", 3);
}

TEST(MoeForward, MissingRouterNamesTheBrickToAdd) {
  try {
    engine::Runtime::create(moe_manifest(moe_model_path(), ""), {});
    FAIL() << "a MoE model without a router ran";
  } catch (const engine::RuntimeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("mixture of experts"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bricks { kind: \"router\" name: \"topk\" }"), std::string::npos) << msg;
  }
}

TEST(MoeForward, RouterLayersAreRefusedForMoe) {
  try {
    engine::Runtime::create(moe_manifest(moe_model_path(), "topk", {1}), {});
    FAIL() << "a MoE router with layers was accepted";
  } catch (const engine::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("remove `layers`"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bricks::testing
