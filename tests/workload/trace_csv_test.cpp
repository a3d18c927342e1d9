// CSV traces: the Azure LLM inference trace's columns and columns named as the JSONL
// fields read into the same requests, every cell goes through the JSONL checks, and each
// mistake names its line and the fix; trace_time_scale stretches or squeezes arrivals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "manifest/trace_rows.h"
#include "workload/workload.h"
#include "workload_support.h"

namespace bricks::engine {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::filesystem::path& p) {
  try {
    read_trace(p, trace_ctx(), 1);
  } catch (const WorkloadError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TraceCsv, AzureColumnsAreArrivalPromptAndOutputLengths) {
  // As in the published file: CRLF line ends, a fraction of seven digits, a day boundary.
  const auto p = write("azure.csv",
                       "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                       "2023-11-16 23:59:59.5000000,4808,10\r\n"
                       "2023-11-17 00:00:00.7500000,3180,8\r\n"
                       "2023-11-17 00:01:00,12,1\r\n");
  const auto rs = read_trace(p, trace_ctx(), 1);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_DOUBLE_EQ(rs[0].arrival_s, 0.0);
  EXPECT_NEAR(rs[1].arrival_s, 1.25, 1e-6);
  EXPECT_NEAR(rs[2].arrival_s, 60.5, 1e-6);
  EXPECT_EQ(rs[0].prompt.size(), 4808u);
  EXPECT_EQ(rs[0].max_new_tokens, 10);
  EXPECT_EQ(rs[2].prompt.size(), 12u);
  EXPECT_EQ(rs[2].max_new_tokens, 1);
}

TEST(TraceCsv, JsonlFieldColumnsReadAsTheJsonlRowWould) {
  const auto csv = write("fields.csv",
                         "arrival_s, prompt_len, max_tokens, tenant, prefix_group, prefix_len\n"
                         "0, 10, 3, 1, 9, 8\n"
                         "\n"
                         "0.5, 30, 4, 0, 9, 8\n");
  const auto jsonl = write("fields.jsonl",
                           "{\"arrival_s\": 0, \"prompt_len\": 10, \"max_tokens\": 3, "
                           "\"tenant\": 1, \"prefix_group\": 9, \"prefix_len\": 8}\n"
                           "{\"arrival_s\": 0.5, \"prompt_len\": 30, \"max_tokens\": 4, "
                           "\"tenant\": 0, \"prefix_group\": 9, \"prefix_len\": 8}\n");
  const auto a = read_trace(csv, trace_ctx(), 7);
  const auto b = read_trace(jsonl, trace_ctx(), 7);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_EQ(a[i].max_new_tokens, b[i].max_new_tokens);
    EXPECT_EQ(a[i].tenant, b[i].tenant);
  }
}

TEST(TraceCsv, MistakesNameTheLineAndTheFix) {
  EXPECT_THAT(error_of(write("h1.csv", "TIMESTAMP,ContextToken,GeneratedTokens\n")),
              HasSubstr("h1.csv:1: the CSV header names an unknown column 'ContextToken'; did "
                        "you mean ContextTokens?"));
  EXPECT_THAT(error_of(write("h2.csv", "arrival_s,max_tokens\n0,1\n")),
              HasSubstr("h2.csv:1: the CSV header has no prompt length column"));
  EXPECT_THAT(error_of(write("h3.csv", "TIMESTAMP,arrival_s,prompt_len\n")),
              HasSubstr("both TIMESTAMP and arrival_s"));
  EXPECT_THAT(error_of(write("h4.csv", "prompt_len,prompt_len\n")),
              HasSubstr("gives prompt_len twice"));
  EXPECT_THAT(error_of(write("h5.csv", "")), HasSubstr("has no header line"));
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  EXPECT_THAT(error_of(write("r1.csv", head + "2023-11-16 18:17:03.9,4808\n")),
              HasSubstr("r1.csv:2: the row has 2 cells and the header 3"));
  EXPECT_THAT(error_of(write("r2.csv", head + "2023-11-16 18:17:03.9,4808,ten\n")),
              HasSubstr("r2.csv:2: GeneratedTokens 'ten' is not a number"));
  EXPECT_THAT(error_of(write("r3.csv", head + "16/11/2023 18:17,48,1\n")),
              HasSubstr("r3.csv:2: TIMESTAMP '16/11/2023 18:17' is not a time"));
  EXPECT_THAT(error_of(write("r4.csv", head + "2023-11-16 18:17:03,48,1\n"
                                              "2023-11-16 18:17:02,48,1\n")),
              HasSubstr("r4.csv:3: TIMESTAMP '2023-11-16 18:17:02' is before the first row's"));
  // The JSONL checks apply to every cell: a 64-bit length is refused, never cut.
  EXPECT_THAT(error_of(write("r5.csv", head + "2023-11-16 18:17:03,4294967306,1\n")),
              HasSubstr("r5.csv:2: \"prompt_len\" is 4294967306, out of range"));
  EXPECT_THAT(error_of(write("r6.csv", "prompt_len,max_tokens\n12,0\n")),
              HasSubstr("r6.csv:2: \"max_tokens\" is 0, out of range"));
}

// validate reads CSV traces with the same parser: every bad row at its line, the header
// is not a request.
TEST(TraceCsv, CheckCountsRowsNotTheHeader) {
  const auto p = write("check.csv",
                       "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                       "2023-11-16 18:17:03,100,10\n"
                       "2023-11-16 18:17:04,x,10\n"
                       "2023-11-16 18:17:05,600,10\n");
  const manifest::TraceCheck t = manifest::check_trace_file(p, 512);
  EXPECT_EQ(t.rows, 3u);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0].line, 3);
  EXPECT_EQ(t.over_context, 1u);
  EXPECT_EQ(t.first_over_context_line, 4);
  const manifest::TraceCheck bad = manifest::check_trace_file(write("bad.csv", "when,len\n1,2\n"), 0);
  EXPECT_EQ(bad.rows, 0u);
  EXPECT_EQ(bad.error_count, 1u);  // the header alone; its rows are not read
}

TEST(TraceCsv, TimeScaleMultipliesArrivals) {
  const auto p = write("scale.csv", "arrival_s,prompt_len\n0,4\n2,4\n6,4\n");
  manifest::Workload w;
  w.set_trace(p.string());
  w.set_trace_time_scale(0.25);
  const auto rs = make_workload(w, trace_ctx());
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_DOUBLE_EQ(rs[1].arrival_s, 0.5);
  EXPECT_DOUBLE_EQ(rs[2].arrival_s, 1.5);
  w.clear_trace_time_scale();
  EXPECT_DOUBLE_EQ(make_workload(w, trace_ctx())[2].arrival_s, 6.0);
}

}  // namespace
}  // namespace bricks::engine
