// The engine's logits against a plain-loop Llama on the tiny f32 model, for a prefill
// and for the decode steps after it, with each attention brick.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine_fixture.h"
#include "naive_llama.h"

namespace bricks::testing {
namespace {

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

class ForwardMatchesNaive : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardMatchesNaive, PrefillAndDecodeLogits) {
  auto rt = engine::Runtime::create(make_manifest(default_bricks(GetParam())), {});
  NaiveLlama naive(*rt->model());
  engine::Engine& eng = rt->engine();
  std::vector<std::vector<float>> seen;
  std::vector<std::vector<int32_t>> contexts;
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    seen.emplace_back(lg.begin(), lg.end());
    contexts.push_back(r.tokens);
  });
  engine::RequestSpec spec;
  spec.prompt = rt->model()->tokenizer().encode("Once upon a time there was", true);
  spec.max_new_tokens = 3;
  spec.ignore_eos = true;
  eng.submit(spec);
  eng.run_to_completion();
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    std::vector<float> want = naive.logits(contexts[i]);
    ASSERT_EQ(want.size(), seen[i].size());
    const double scale = std::max(1.0, max_abs(want));
    for (size_t v = 0; v < want.size(); ++v) {
      ASSERT_NEAR(seen[i][v], want[v], 1e-4 * scale)
          << "step " << i << " (context " << contexts[i].size() << " tokens), vocab id " << v;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AttentionBricks, ForwardMatchesNaive,
                         ::testing::Values("reference", "cpu_paged"));

}  // namespace
}  // namespace bricks::testing
