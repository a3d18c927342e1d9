// Validation of the workload section's generator fields: each mistake is one error at
// its line and column, with the fix.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace bricks::manifest {
namespace {

using test_support::check_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Lines 1-5; the workload starts on line 6.
const std::string kCore =
    "device { kind: \"cpu\" }\n"
    "model { builtin: \"tiny\" }\n"
    "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
    "bricks { kind: \"kv\" name: \"paged\" }\n"
    "bricks { kind: \"attention\" name: \"reference\" }\n";

std::string gen(const std::string& body) {
  return kCore + "workload { generator {\n" + body + "\n} }\n";
}

TEST(ValidateWorkload, FullGeneratorIsValid) {
  EXPECT_THAT(check_text(gen("rate: 4 seed: 1 duration_s: 30\n"
                             "arrival { process: \"gamma\" cv: 2 }\n"
                             "prompt_len { kind: \"lognormal\" median: 200 p90: 900 max: 4000 }\n"
                             "output_len { kind: \"lognormal\" mean: 100 sigma: 0.7 }\n"
                             "tenants { name: \"a\" share: 3 priority: 1 }\n"
                             "tenants { name: \"b\" share: 1 }\n"
                             "conversations { turns: 3 think_time_s: 5 max_prompt_len: 2000 "
                             "user_len { kind: \"uniform\" min: 10 max: 50 } }")),
              IsEmpty());
  EXPECT_THAT(check_text(gen("num_requests: 10 prompt_len { kind: \"fixed\" value: 8 }\n"
                             "output_len { kind: \"fixed\" value: 2 }\n"
                             "tenants { rate: 1 } tenants { rate: 2 }")),
              IsEmpty());
}

TEST(ValidateWorkload, ArrivalMistakes) {
  EXPECT_THAT(check_text(gen("num_requests: 1 prompt_len_min: 1 prompt_len_max: 1 "
                             "output_len_min: 1 output_len_max: 1\n"
                             "arrival { process: \"gama\" cv: 2 burstiness: 4 }")),
              ElementsAre(HasSubstr("8:11: error: workload.generator.arrival.process 'gama' is "
                                    "not supported; did you mean 'gamma'?"),
                          HasSubstr("8:27: error: cv and burstiness apply to gamma arrivals only"),
                          HasSubstr("8:33: error: both cv and burstiness are given")));
}

TEST(ValidateWorkload, LengthMistakes) {
  EXPECT_THAT(
      check_text(gen("num_requests: 1 prompt_len_min: 4\n"
                     "prompt_len { kind: \"lognormal\" median: 100 p90: 50 }\n"
                     "output_len { kind: \"empirical\" file: \"missing.json\" }")),
      ElementsAre(HasSubstr("7:17: error: both workload.generator.prompt_len and "
                            "workload.generator.prompt_len_min/_max are given"),
                  HasSubstr("8:44: error: workload.generator.prompt_len.p90 50 is not above "
                            "the median 100"),
                  HasSubstr("9:32: error: length distribution file 'missing.json' does not "
                            "exist")));
  EXPECT_THAT(check_text(gen("num_requests: 1 prompt_len { min: 3 }\n"
                             "output_len { kind: \"uniform\" min: 5 max: 2 }")),
              ElementsAre(HasSubstr("7:17: error: workload.generator.prompt_len.kind is not "
                                    "set; set kind to one of"),
                          HasSubstr("8:37: error: workload.generator.output_len.max 2 is below "
                                    "workload.generator.output_len.min 5")));
}

TEST(ValidateWorkload, TenantAndConversationMistakes) {
  EXPECT_THAT(
      check_text(gen("num_requests: 3 rate: 1 prompt_len_min: 1 prompt_len_max: 1 "
                     "output_len_min: 1 output_len_max: 1\n"
                     "tenants { rate: 2 }\n"
                     "tenants { share: 1 }\n"
                     "conversations { turns: 0 }")),
      ElementsAre(HasSubstr("7:1: error: num_requests counts independent requests"),
                  HasSubstr("7:17: warning: the tenants' own rates replace"),
                  HasSubstr("9:1: error: some tenants have their own rate and this one has none"),
                  HasSubstr("9:11: error: a tenant with its own rate takes no share"),
                  HasSubstr("10:1: error: workload.generator.conversations.count is 0, below 1"),
                  HasSubstr("10:17: error: workload.generator.conversations.turns is 0, below 1")));
}

TEST(ValidateWorkload, DurationNeedsARate) {
  EXPECT_THAT(check_text(gen("duration_s: 10 prompt_len_min: 1 prompt_len_max: 1 "
                             "output_len_min: 1 output_len_max: 1")),
              ElementsAre(HasSubstr("7:1: error: duration_s needs arrivals spread in time")));
}

TEST(ValidateWorkload, TraceSeedWithoutATraceIsAWarning) {
  EXPECT_THAT(check_text(kCore + "workload {\n  trace_seed: 3\n"
                                 "  generator { num_requests: 1 prompt_len_min: 1 "
                                 "prompt_len_max: 1 output_len_min: 1 output_len_max: 1 }\n}\n"),
              ElementsAre(HasSubstr("7:3: warning: workload.trace_seed is ignored without a "
                                    "trace; remove it")));
}

TEST(ValidateOutput, SloMistakesAreNamedWithTheirFix) {
  const std::string work =
      "workload { generator { num_requests: 1 prompt_len_min: 1 prompt_len_max: 1 "
      "output_len_min: 1 output_len_max: 1 } }\n";
  EXPECT_THAT(check_text(kCore + work + "output { slo { ttft_s: 0.25 tpot_s: 0.1 } }\n"),
              IsEmpty());
  EXPECT_THAT(
      check_text(kCore + work +
                 "output { slo { ttft_s: -1 percentile: 120 attainment: 1.5 } }\n"),
      ElementsAre(HasSubstr("7:16: error: output.slo.ttft_s is -1, negative; give seconds"),
                  HasSubstr("7:27: error: output.slo.percentile is 120, outside (0, 100]"),
                  HasSubstr("7:43: error: output.slo.attainment is 1.5, outside (0, 1]")));
}

// A trace is checked row by row by validate: each bad row is an error at the trace's own
// file:line, and rows that cannot fit the builtin model's context are one warning.
TEST(ValidateWorkload, TraceRowsAreCheckedAtTheirLine) {
  const std::filesystem::path trace = test_support::write_temp_file(
      "t.jsonl",
      "{\"arrival_s\": 0, \"prompt_len\": 16}\n"
      "{\"arrival_s\": 1, \"prompt_len\": 4294967306}\n"
      "\n"
      "{\"arrival_s\": 2, \"prompt_len\": 16, \"tenent\": 1}\n"
      "{\"arrival_s\": 3, \"prompt_len\": 500, \"max_tokens\": 100}\n");
  const auto diags = check_text(kCore + "workload { trace: \"" + trace.string() + "\" }\n");
  EXPECT_THAT(diags,
              ElementsAre(HasSubstr(trace.string() + ":2: error: \"prompt_len\" is 4294967306, "
                                                     "out of range"),
                          HasSubstr(trace.string() + ":4: error: unknown field \"tenent\"; did "
                                                     "you mean \"tenant\"?"),
                          HasSubstr("6:12: warning: 1 of 4 requests in " + trace.string() +
                                    " need more than the model's context of 512 tokens (the "
                                    "first at line 5)")));
  const std::filesystem::path empty = test_support::write_temp_file("e.jsonl", "\n\n");
  EXPECT_THAT(check_text(kCore + "workload { trace: \"" + empty.string() + "\" }\n"),
              ElementsAre(HasSubstr("has no requests")));
}

// workload.context_overflow takes three policies; with truncate_prompt or clamp_max_tokens,
// lengths past the builtin model's context are fitted at submission, not errors.
TEST(ValidateWorkload, ContextOverflowPolicyDecidesWhetherLongRequestsAreErrors) {
  const std::string too_long =
      "generator { num_requests: 2 prompt_len_min: 600 prompt_len_max: 700 "
      "output_len_min: 8 output_len_max: 8 }";
  EXPECT_THAT(check_text(kCore + "workload { " + too_long + " }\n"),
              ElementsAre(HasSubstr("workload.generator.prompt_len_max 700 is beyond the "
                                    "model's context of 512 tokens")));
  EXPECT_THAT(check_text(kCore + "workload { context_overflow: \"fail\" " + too_long + " }\n"),
              ElementsAre(HasSubstr("is beyond the model's context")));
  EXPECT_THAT(check_text(kCore + "workload { context_overflow: \"truncate_prompt\" " +
                         too_long + " }\n"),
              IsEmpty());
  EXPECT_THAT(check_text(kCore + "workload {\n  context_overflow: \"clamp\" " + too_long +
                         " }\n"),
              ElementsAre(HasSubstr("7:3: error: workload.context_overflow 'clamp' is not "
                                    "supported; did you mean 'clamp_max_tokens'?")));
  const std::filesystem::path trace = test_support::write_temp_file(
      "long.jsonl", "{\"arrival_s\": 0, \"prompt_len\": 900, \"max_tokens\": 10}\n");
  EXPECT_THAT(check_text(kCore + "workload { trace: \"" + trace.string() + "\" }\n"),
              ElementsAre(HasSubstr("set workload.context_overflow to truncate_prompt or "
                                    "clamp_max_tokens")));
  EXPECT_THAT(check_text(kCore + "workload { context_overflow: \"truncate_prompt\" trace: \"" +
                         trace.string() + "\" }\n"),
              IsEmpty());
}

}  // namespace
}  // namespace bricks::manifest
