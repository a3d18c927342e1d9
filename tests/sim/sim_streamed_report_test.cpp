// A run fed from a request stream, whose ended requests are dropped as they end, reports
// exactly what the same run reports with the whole workload submitted first and every
// request kept: the report built from summaries and token gaps equals the one built from
// each request's full record, to the bit.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_requests.h"
#include "runtime/runtime.h"
#include "sim_manifest.h"
#include "workload/workload.h"
#include "workload/workload_feed.h"

namespace bricks::testing {
namespace {

engine::WorkloadContext context_of(engine::Runtime& rt, const manifest::LoadedManifest& m) {
  engine::WorkloadContext ctx;
  ctx.vocab_size = rt.vocab_size();
  ctx.base_dir = m.file.parent_path();
  return ctx;
}

// The whole workload submitted first, every request kept.
std::unique_ptr<engine::Runtime> run_whole(const manifest::LoadedManifest& m) {
  auto rt = engine::Runtime::create(m, {});
  for (auto& spec : engine::make_workload(m.proto.workload(), context_of(*rt, m))) {
    rt->engine().submit(std::move(spec));
  }
  rt->engine().run_to_completion();
  return rt;
}

// Requests submitted as they arrive and dropped as they end.
std::unique_ptr<engine::Runtime> run_streamed(const manifest::LoadedManifest& m) {
  auto rt = engine::Runtime::create(m, {});
  engine::RequestStream stream(m.proto.workload(), context_of(*rt, m));
  rt->engine().keep_ended_requests(false);
  engine::run_stream(rt->engine(), stream);
  return rt;
}

void expect_same(const engine::Distribution& a, const engine::Distribution& b, const char* what) {
  EXPECT_EQ(a.count, b.count) << what;
  EXPECT_EQ(a.mean, b.mean) << what;
  EXPECT_EQ(a.median, b.median) << what;
  EXPECT_EQ(a.p90, b.p90) << what;
  EXPECT_EQ(a.p99, b.p99) << what;
  EXPECT_EQ(a.max, b.max) << what;
}

void expect_same_report(const manifest::LoadedManifest& m) {
  auto whole = run_whole(m);
  auto streamed = run_streamed(m);
  const engine::Engine& w = whole->engine();
  const engine::Engine& s = streamed->engine();
  ASSERT_EQ(w.ended().size(), w.num_submitted());
  EXPECT_TRUE(s.ended().empty());  // dropped as they ended
  EXPECT_EQ(s.num_ended(), w.num_ended());
  EXPECT_EQ(s.stats().steps, w.stats().steps);
  EXPECT_EQ(s.now(), w.now());

  // The record of each whole request, its gaps in itl_s: the report as it was built before
  // summaries and gap counts existed.
  std::vector<engine::RequestRecord> records;
  for (const engine::Request* r : w.ended()) records.push_back(engine::record_of(*r));
  const engine::SloSpec slo = engine::SloSpec::from(m.proto.output().slo());
  const engine::Report full = engine::Report::from_records(records, slo);
  const engine::Report compact = engine::Report::from(s, slo);
  expect_same(full.ttft, compact.ttft, "ttft");
  expect_same(full.tpot, compact.tpot, "tpot");
  expect_same(full.itl, compact.itl, "itl");
  expect_same(full.e2e, compact.e2e, "e2e");
  EXPECT_GT(compact.itl.count, compact.ttft.count);
  EXPECT_EQ(full.slo_result.tbt_at, compact.slo_result.tbt_at);
  EXPECT_EQ(full.slo_result.met, compact.slo_result.met);
  EXPECT_EQ(full.duration_s, compact.duration_s);
  EXPECT_EQ(full.output_throughput, compact.output_throughput);
  EXPECT_EQ(engine::requests_jsonl(full.records), engine::requests_jsonl(compact.records));
  // And the engine's own report of the whole run is the streamed run's, counters included.
  EXPECT_EQ(engine::Report::from(w, slo).to_json().dump(), compact.to_json().dump());
}

TEST(SimStreamedReport, EqualsTheReportOfWholeRequests) {
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks());
  m.proto.mutable_output()->mutable_slo()->set_tbt_s(0.05);
  expect_same_report(m);
}

TEST(SimStreamedReport, EqualsItWithPreemptions) {
  // A cache of 4096 tokens for prompts of up to 2048: requests are preempted and recomputed.
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks());
  m.proto.mutable_device()->set_kv_cache_bytes(512ll << 20);
  auto whole = run_whole(m);
  EXPECT_GT(whole->engine().stats().preemptions, 0);
  expect_same_report(m);
}

TEST(SimStreamedReport, EqualsItWhenTheEngineWaitsForArrivals) {
  // One request every 5 s on average: the engine is idle between most arrivals, so the
  // stream must have handed over each next arrival before the engine waits for it.
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks());
  m.proto.mutable_workload()->mutable_generator()->set_rate(0.2);
  m.proto.mutable_workload()->mutable_generator()->set_num_requests(40);
  expect_same_report(m);
}

}  // namespace
}  // namespace bricks::testing
