// Runs one greedy request on a runtime's engine and checks the logits of its prefill and of
// each decode step after it against a naive reference forward pass (naive_llama.h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "naive_llama.h"
#include "runtime/runtime.h"

namespace bricks::testing {

// `steps` tokens of `prompt` on `rt`; every logit within 1e-4 of the reference's largest
// magnitude (at least 1).
inline void expect_logits_match_naive(engine::Runtime& rt, const NaiveLlama& naive,
                                      const std::string& prompt, int32_t steps) {
  engine::Engine& eng = rt.engine();
  std::vector<std::vector<float>> seen;
  std::vector<std::vector<int32_t>> contexts;
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    seen.emplace_back(lg.begin(), lg.end());
    contexts.push_back(r.tokens);
  });
  engine::RequestSpec spec;
  spec.prompt = rt.model()->tokenizer().encode(prompt, true);
  spec.max_new_tokens = steps;
  spec.ignore_eos = true;
  eng.submit(spec);
  eng.run_to_completion();
  ASSERT_EQ(seen.size(), static_cast<size_t>(steps));
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

}  // namespace bricks::testing
