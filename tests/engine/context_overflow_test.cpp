// workload.context_overflow: a request longer than the model's context fails with its
// reason (fail), keeps its prompt's last tokens (truncate_prompt) or generates what the
// context leaves (clamp_max_tokens), and the report counts each.
#include <gtest/gtest.h>

#include <memory>
#include <numeric>

#include "engine/context_overflow.h"
#include "engine_fixture.h"
#include "report/report.h"

namespace bricks::testing {
namespace {

using engine::ContextOverflow;
using engine::RequestSpec;

RequestSpec spec_of(int32_t prompt_len, int32_t max_new, ContextOverflow policy) {
  RequestSpec s;
  s.prompt.resize(static_cast<size_t>(prompt_len));
  std::iota(s.prompt.begin(), s.prompt.end(), 1);  // token i + 1 at position i
  s.max_new_tokens = max_new;
  s.context_overflow = policy;
  return s;
}

engine::ImageInput image_at(int32_t offset, int32_t patches) {
  engine::ImageInput im;
  im.offset = offset;
  im.grid_w = patches;
  im.grid_h = 1;
  return im;
}

TEST(ContextOverflow, NamesParseBackAndNothingElseDoes) {
  for (ContextOverflow o : {ContextOverflow::kFail, ContextOverflow::kTruncatePrompt,
                            ContextOverflow::kClampMaxTokens}) {
    ContextOverflow back = ContextOverflow::kFail;
    ASSERT_TRUE(engine::parse_context_overflow(engine::context_overflow_name(o), &back));
    EXPECT_EQ(back, o);
  }
  ContextOverflow unused;
  EXPECT_FALSE(engine::parse_context_overflow("truncate", &unused));
  EXPECT_FALSE(engine::parse_context_overflow("", &unused));
}

TEST(ContextOverflow, ARequestThatFitsIsLeftAlone) {
  for (ContextOverflow o : {ContextOverflow::kFail, ContextOverflow::kTruncatePrompt,
                            ContextOverflow::kClampMaxTokens}) {
    RequestSpec s = spec_of(90, 10, o);  // exactly the context
    const engine::OverflowResult r = engine::fit_context(s, 100);
    EXPECT_TRUE(r.problem.empty()) << r.problem;
    EXPECT_EQ(s.prompt.size(), 90u);
    EXPECT_EQ(s.max_new_tokens, 10);
    EXPECT_EQ(r.prompt_truncated + r.max_tokens_clamped, 0);
  }
}

TEST(ContextOverflow, FailNamesTheLengthsTheContextAndThePolicies) {
  RequestSpec s = spec_of(95, 10, ContextOverflow::kFail);
  const engine::OverflowResult r = engine::fit_context(s, 100);
  EXPECT_NE(r.problem.find("prompt of 95 tokens plus max_tokens 10"), std::string::npos);
  EXPECT_NE(r.problem.find("context of 100"), std::string::npos);
  EXPECT_NE(r.problem.find("truncate_prompt"), std::string::npos);
  EXPECT_EQ(s.prompt.size(), 95u);
}

TEST(ContextOverflow, TruncateKeepsTheLastTokens) {
  RequestSpec s = spec_of(130, 10, ContextOverflow::kTruncatePrompt);
  const engine::OverflowResult r = engine::fit_context(s, 100);
  ASSERT_TRUE(r.problem.empty()) << r.problem;
  EXPECT_EQ(r.prompt_truncated, 40);
  ASSERT_EQ(s.prompt.size(), 90u);
  EXPECT_EQ(s.prompt.front(), 41);  // tokens 1..40 went
  EXPECT_EQ(s.prompt.back(), 130);
  EXPECT_EQ(s.max_new_tokens, 10);
}

TEST(ContextOverflow, TruncateMovesImagesAfterTheCutAndRefusesToSplitOne) {
  RequestSpec s = spec_of(130, 10, ContextOverflow::kTruncatePrompt);  // cut at 40
  s.images = {image_at(5, 10), image_at(60, 20)};
  const engine::OverflowResult r = engine::fit_context(s, 100);
  ASSERT_TRUE(r.problem.empty()) << r.problem;
  ASSERT_EQ(s.images.size(), 1u);  // the first ended before the cut
  EXPECT_EQ(s.images[0].offset, 20);

  RequestSpec split = spec_of(130, 10, ContextOverflow::kTruncatePrompt);
  split.images = {image_at(30, 20)};  // [30, 50) holds the cut at 40
  const engine::OverflowResult bad = engine::fit_context(split, 100);
  EXPECT_NE(bad.problem.find("cut the image at offset 30"), std::string::npos) << bad.problem;
  EXPECT_EQ(split.prompt.size(), 130u);
}

TEST(ContextOverflow, TruncateCannotHelpAnOutputThatFillsTheContext) {
  RequestSpec s = spec_of(10, 100, ContextOverflow::kTruncatePrompt);
  const engine::OverflowResult r = engine::fit_context(s, 100);
  EXPECT_NE(r.problem.find("max_tokens 100 leaves no room"), std::string::npos) << r.problem;
}

TEST(ContextOverflow, ClampLowersMaxTokensToWhatIsLeft) {
  RequestSpec s = spec_of(70, 50, ContextOverflow::kClampMaxTokens);
  const engine::OverflowResult r = engine::fit_context(s, 100);
  ASSERT_TRUE(r.problem.empty()) << r.problem;
  EXPECT_EQ(s.max_new_tokens, 30);
  EXPECT_EQ(r.max_tokens_clamped, 20);
  EXPECT_EQ(s.prompt.size(), 70u);

  RequestSpec full = spec_of(100, 5, ContextOverflow::kClampMaxTokens);
  EXPECT_NE(engine::fit_context(full, 100).problem.find("leaves no room"), std::string::npos);
}

// Through the engine: a truncated request computes exactly what its kept tokens would
// alone, a clamped one stops at the context, and the report counts both.
TEST(ContextOverflowEngine, TruncatedEqualsTheKeptTokensAloneAndClampedStopsAtTheContext) {
  auto rt = engine::Runtime::create(make_manifest(default_bricks()), {});
  const int32_t context = rt->model()->config().context_length;
  const std::vector<int32_t> text =
      rt->model()->tokenizer().encode("Once upon a time there was a small red fox", true);
  RequestSpec truncated;
  truncated.prompt.assign(static_cast<size_t>(context), 300);  // filler, then the text
  truncated.prompt.insert(truncated.prompt.end(), text.begin(), text.end());
  truncated.max_new_tokens = 6;
  truncated.ignore_eos = true;
  truncated.context_overflow = ContextOverflow::kTruncatePrompt;
  RequestSpec kept = truncated;
  kept.prompt.erase(kept.prompt.begin(), kept.prompt.end() - (context - 6));
  kept.context_overflow = ContextOverflow::kFail;
  RequestSpec clamped;
  clamped.prompt.assign(text.begin(), text.end());
  clamped.prompt.insert(clamped.prompt.begin(), static_cast<size_t>(context - 8 - text.size()),
                        300);
  clamped.max_new_tokens = 50;
  clamped.ignore_eos = true;
  clamped.context_overflow = ContextOverflow::kClampMaxTokens;
  RequestSpec failed = clamped;
  failed.context_overflow = ContextOverflow::kFail;

  engine::Engine& eng = rt->engine();
  const uint64_t t_id = eng.submit(truncated);
  const uint64_t k_id = eng.submit(kept);
  const uint64_t c_id = eng.submit(clamped);
  const uint64_t f_id = eng.submit(failed);
  eng.run_to_completion();
  std::map<uint64_t, const engine::Request*> by_id;
  for (const engine::Request* r : eng.ended()) by_id[r->id] = r;
  ASSERT_EQ(by_id.size(), 4u);

  const engine::Request& t = *by_id[t_id];
  const engine::Request& k = *by_id[k_id];
  ASSERT_EQ(t.finish, engine::FinishReason::kLength) << t.failure;
  ASSERT_EQ(k.finish, engine::FinishReason::kLength) << k.failure;
  EXPECT_EQ(t.prompt_tokens_truncated, static_cast<int32_t>(text.size()) + 6);
  EXPECT_EQ(t.tokens, k.tokens);  // the same kept prompt and the same greedy output

  const engine::Request& c = *by_id[c_id];
  ASSERT_EQ(c.finish, engine::FinishReason::kLength) << c.failure;
  EXPECT_EQ(c.num_generated, 8);
  EXPECT_EQ(c.num_tokens(), context);
  EXPECT_EQ(c.max_tokens_clamped, 42);

  const engine::Request& f = *by_id[f_id];
  EXPECT_EQ(f.finish, engine::FinishReason::kFailed);
  EXPECT_NE(f.failure.find("exceeds the model's context"), std::string::npos) << f.failure;

  const engine::Report rep = engine::Report::from(eng);
  EXPECT_EQ(rep.prompts_truncated, 1u);
  EXPECT_EQ(rep.max_tokens_clamped, 1u);
  EXPECT_EQ(rep.failed, 1u);
  EXPECT_NE(rep.to_table().find("1 prompts truncated, 1 max_tokens clamped"), std::string::npos)
      << rep.to_table();
  EXPECT_EQ(rep.to_json()["requests"]["prompts_truncated"], 1);
}

}  // namespace
}  // namespace bricks::testing
