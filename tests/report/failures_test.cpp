// Failures counted by reason: every failure counts, reasons that differ only in numbers are
// one reason, the most frequent comes first, and a rare reason still shows in the report.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/report_failures.h"

namespace bricks::engine {
namespace {

TEST(FailureTally, NumbersAreOneReason) {
  EXPECT_EQ(reason_pattern("prompt of 5000 tokens + max_tokens 96 exceeds the context 4096"),
            "prompt of N tokens + max_tokens N exceeds the context N");
  EXPECT_EQ(reason_pattern("needs 1.5 GiB, has 0.25."), "needs N GiB, has N.");
  EXPECT_EQ(reason_pattern("no digits"), "no digits");
}

TEST(FailureTally, CountsEveryFailureAndKeepsAFewExamples) {
  FailureTally t;
  for (int i = 0; i < 25; ++i) {
    t.add("request " + std::to_string(i), "prompt of " + std::to_string(4100 + i) + " tokens");
  }
  t.add("request 99", "kv pool exhausted");
  EXPECT_EQ(t.total(), 26u);
  const std::vector<FailureReason> r = t.by_count();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].reason, "prompt of N tokens");
  EXPECT_EQ(r[0].count, 25u);
  ASSERT_EQ(r[0].examples.size(), FailureTally::kExamples);
  EXPECT_EQ(r[0].examples[0], "request 0: prompt of 4100 tokens");
  EXPECT_EQ(r[1].reason, "kv pool exhausted");
  EXPECT_EQ(r[1].count, 1u);

  const nlohmann::json j = t.to_json();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["count"], 25);
  EXPECT_EQ(j[1]["examples"][0], "request 99: kv pool exhausted");
}

TEST(FailureTally, TheRareReasonShowsInTheReportTable) {
  Report rep;
  for (int i = 0; i < 20; ++i) rep.failures.add("request " + std::to_string(i), "too long");
  rep.failures.add("request 20", "adapter missing");
  const std::string table = rep.to_table();
  EXPECT_NE(table.find("failures    21, by reason"), std::string::npos) << table;
  EXPECT_NE(table.find("20 x too long"), std::string::npos) << table;
  EXPECT_NE(table.find("1 x adapter missing"), std::string::npos) << table;
  EXPECT_EQ(rep.to_json()["failures"][1]["reason"], "adapter missing");
}

}  // namespace
}  // namespace bricks::engine
