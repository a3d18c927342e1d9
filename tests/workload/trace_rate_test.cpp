// A trace replayed at a benchmark's rate: its own mean rate, the time scale that turns it
// into the asked rate (bursts kept), its first N rows, and the traces that have no rate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "workload/workload.h"
#include "workload_support.h"

namespace bricks::engine {
namespace {

using ::testing::HasSubstr;

// Five rows one second apart, then a burst of three at 10 s: 7 gaps over 10 s.
std::filesystem::path bursty_trace() {
  return write("bricks-trace-rate.jsonl",
               "{\"arrival_s\": 0, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 1, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 2, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 3, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 4, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 10, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 10, \"prompt_len\": 8}\n"
               "{\"arrival_s\": 10, \"prompt_len\": 8}\n");
}

TEST(TraceRate, IsTheMeanGapOverTheRowsKept) {
  const TraceArrivals t(bursty_trace());
  EXPECT_DOUBLE_EQ(t.rate(0), 0.7);
  EXPECT_DOUBLE_EQ(t.rate(5), 1.0);  // 4 gaps over 4 s
  EXPECT_DOUBLE_EQ(t.rate(100), 0.7);
}

TEST(TraceRate, RetargetScalesArrivalsAndKeepsTheBurst) {
  bricks::manifest::Workload w;
  w.set_trace(bursty_trace().filename().string());
  const std::filesystem::path dir = bursty_trace().parent_path();
  const RateRetarget retarget(w, dir);
  EXPECT_EQ(retarget.apply(w, 1.4, 0, 0), 0u);
  EXPECT_DOUBLE_EQ(w.trace_time_scale(), 0.5);
  WorkloadContext c = trace_ctx();
  c.base_dir = dir;
  const auto rs = make_workload(w, c);
  ASSERT_EQ(rs.size(), 8u);
  EXPECT_DOUBLE_EQ(rs[1].arrival_s, 0.5);
  EXPECT_DOUBLE_EQ(rs[5].arrival_s, 5.0);
  EXPECT_DOUBLE_EQ(rs[7].arrival_s, 5.0);
  // A time scale already in the manifest is replaced, not compounded.
  EXPECT_EQ(retarget.apply(w, 0.35, 0, 0), 0u);
  EXPECT_DOUBLE_EQ(w.trace_time_scale(), 2.0);
}

TEST(TraceRate, ARequestCountKeepsTheFirstRowsAtTheirOwnRate) {
  bricks::manifest::Workload w;
  w.set_trace(bursty_trace().string());
  EXPECT_EQ(RateRetarget(w, "/nonexistent").apply(w, 2.0, 5, 0), 5u);  // absolute trace path
  EXPECT_DOUBLE_EQ(w.trace_time_scale(), 0.5);
  WorkloadContext c = trace_ctx();
  c.max_requests = 5;
  const auto rs = make_workload(w, c);
  ASSERT_EQ(rs.size(), 5u);
  EXPECT_DOUBLE_EQ(rs[4].arrival_s, 2.0);
}

TEST(TraceRate, ATraceWithoutARateIsAnErrorWithTheFix) {
  const auto one = write("bricks-trace-one.jsonl", "{\"arrival_s\": 3, \"prompt_len\": 8}\n");
  try {
    TraceArrivals(one).rate(0);
    FAIL() << "a one-row trace has no rate";
  } catch (const WorkloadError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bricks-trace-one.jsonl"));
    EXPECT_THAT(e.what(), HasSubstr("1 row has no arrival rate"));
    EXPECT_THAT(e.what(), HasSubstr("bricks run"));
  }
  const auto same = write("bricks-trace-same.jsonl",
                          "{\"arrival_s\": 3, \"prompt_len\": 8}\n"
                          "{\"arrival_s\": 3, \"prompt_len\": 9}\n");
  EXPECT_THROW(TraceArrivals(same).rate(0), WorkloadError);
}

TEST(TraceRate, ADurationNeedsAGenerator) {
  bricks::manifest::Workload w;
  w.set_trace(bursty_trace().string());
  try {
    RateRetarget(w, "").apply(w, 1.0, 0, 30.0);
    FAIL() << "a trace takes no duration";
  } catch (const WorkloadError& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs workload.generator"));
  }
}

}  // namespace
}  // namespace bricks::engine
