// The engine's MoE logits against a plain per-token loop (per chosen expert, dense
// matvecs) on moe-tiny, for a prefill and the decode steps after it; and the errors of a
// MoE model wired without its router.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "moe_fixture.h"
#include "naive_moe.h"

namespace bricks::testing {
namespace {

TEST(MoeForward, PrefillAndDecodeLogitsMatchNaiveLoop) {
  auto rt = engine::Runtime::create(moe_manifest(moe_model_path(), "topk"), {});
  EXPECT_NE(rt->device_summary().find("2 of 4 experts"), std::string::npos)
      << rt->device_summary();
  NaiveMoe naive(*rt->model());
  engine::Engine& eng = rt->engine();
  std::vector<std::vector<float>> seen;
  std::vector<std::vector<int32_t>> contexts;
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    seen.emplace_back(lg.begin(), lg.end());
    contexts.push_back(r.tokens);
  });
  engine::RequestSpec spec;
  spec.prompt = rt->model()->tokenizer().encode("Once upon a time", true);
  spec.max_new_tokens = 3;
  spec.ignore_eos = true;
  eng.submit(spec);
  eng.run_to_completion();
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    const std::vector<float> want = naive.logits(contexts[i]);
    ASSERT_EQ(want.size(), seen[i].size());
    double scale = 1.0;
    for (float x : want) scale = std::max(scale, static_cast<double>(std::fabs(x)));
    for (size_t v = 0; v < want.size(); ++v) {
      ASSERT_NEAR(seen[i][v], want[v], 1e-4 * scale)
          << "step " << i << " (context " << contexts[i].size() << " tokens), vocab id " << v;
    }
  }
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
