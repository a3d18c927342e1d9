// SLO attainment, goodput, effective throughput, percentile targets and per-tenant
// fairness on small hand-made runs.
#include <gtest/gtest.h>

#include "report/report.h"

namespace bricks::engine {
namespace {

RequestRecord rec(int32_t tenant, double arrival, double ttft, double tpot, int32_t out,
                  bool failed = false) {
  RequestRecord r;
  r.tenant = tenant;
  r.arrival_s = arrival;
  r.failed = failed;
  r.prompt_tokens = 10;
  if (failed) {
    r.end_s = arrival + 1;
    return r;
  }
  r.output_tokens = out;
  r.ttft_s = ttft;
  if (out > 1) {
    r.tpot_s = tpot;
    r.itl_s.assign(static_cast<size_t>(out - 1), tpot);
  }
  r.e2e_s = ttft + tpot * (out - 1);
  r.end_s = arrival + r.e2e_s;
  return r;
}

SloSpec distserve() {
  SloSpec s;
  s.ttft_s = 0.25;
  s.tpot_s = 0.1;
  return s;
}

TEST(Slo, MeetsNeedsBothTargetsAndAToken) {
  const SloSpec s = distserve();
  EXPECT_TRUE(meets_slo(rec(0, 0, 0.2, 0.05, 5), s));
  EXPECT_FALSE(meets_slo(rec(0, 0, 0.3, 0.05, 5), s));    // TTFT too late
  EXPECT_FALSE(meets_slo(rec(0, 0, 0.2, 0.15, 5), s));    // TPOT too slow
  EXPECT_TRUE(meets_slo(rec(0, 0, 0.2, 9.0, 1), s));      // one token: no TPOT
  EXPECT_FALSE(meets_slo(rec(0, 0, 0, 0, 0, true), s));   // failed
  EXPECT_TRUE(meets_slo(rec(0, 0, 5, 5, 5), SloSpec{}));  // no targets
}

TEST(Slo, AttainmentGoodputAndEffectiveThroughput) {
  // 10 requests over 10 s: 9 meet, 1 misses TTFT. 90 % attainment qualifies.
  std::vector<RequestRecord> rs;
  for (int i = 0; i < 9; ++i) rs.push_back(rec(0, i, 0.1, 0.05, 11));
  rs.push_back(rec(0, 9, 0.4, 0.05, 11));
  // The last ends at 9 + 0.4 + 0.5 = 9.9 s.
  const SloResult r = evaluate_slo(rs, distserve(), 10.0, 1.0);
  EXPECT_EQ(r.total, 10u);
  EXPECT_EQ(r.met, 9u);
  EXPECT_DOUBLE_EQ(r.attainment, 0.9);
  EXPECT_TRUE(r.attained);
  EXPECT_DOUBLE_EQ(r.goodput_rps, 1.0);
  EXPECT_DOUBLE_EQ(r.effective_rps, 0.9);
  EXPECT_DOUBLE_EQ(r.effective_output_tps, 9 * 11 / 10.0);
  // One more miss: 8 of 10 is below 90 %, so the run's rate does not count as goodput.
  rs[0] = rec(0, 0, 0.1, 0.2, 11);
  const SloResult r2 = evaluate_slo(rs, distserve(), 10.0, 1.0);
  EXPECT_DOUBLE_EQ(r2.attainment, 0.8);
  EXPECT_FALSE(r2.attained);
  EXPECT_DOUBLE_EQ(r2.goodput_rps, 0.0);
}

TEST(Slo, PercentileTargetsCountFailuresAsLate) {
  std::vector<RequestRecord> rs;
  for (int i = 0; i < 100; ++i) rs.push_back(rec(0, i, 0.01 * (i + 1), 0.05, 3));
  SloSpec s;
  s.tbt_s = 0.06;
  s.ttft_s = 0.995;
  s.percentile = 99;
  SloResult r = evaluate_slo(rs, s, 100, 1);
  EXPECT_NEAR(r.ttft_at, 0.9901, 1e-9);  // pos 98.01 of 0.01..1.00
  EXPECT_DOUBLE_EQ(r.tbt_at, 0.05);
  EXPECT_TRUE(r.percentile_ok);
  s.tbt_s = 0.04;
  EXPECT_FALSE(evaluate_slo(rs, s, 100, 1).percentile_ok);
  s.tbt_s = 0.06;
  rs[0] = rec(0, 0, 0, 0, 0, true);
  rs[1] = rec(0, 1, 0, 0, 0, true);
  EXPECT_FALSE(evaluate_slo(rs, s, 100, 1).percentile_ok);  // P99 TTFT is now infinite
}

TEST(Tenants, ServiceSharesWorstTailAndJain) {
  // Tenant 0: two requests, 10 prompt + 5 output tokens each, e2e 1 s each.
  // Tenant 1: one request of 10 + 5 tokens with e2e 3 s (it waited).
  std::vector<RequestRecord> rs = {rec(0, 0, 0.2, 0.2, 5), rec(0, 1, 0.2, 0.2, 5),
                                   rec(1, 0, 2.2, 0.2, 5), rec(1, 2, 0, 0, 0, true)};
  const Fairness f = tenant_fairness(rs, distserve());
  ASSERT_EQ(f.tenants.size(), 2u);
  const TenantStats& t0 = f.tenants[0];
  const TenantStats& t1 = f.tenants[1];
  EXPECT_EQ(t0.requests, 2u);
  EXPECT_EQ(t1.requests, 2u);
  EXPECT_EQ(t1.failed, 1u);
  EXPECT_EQ(t0.service_tokens, 30);
  EXPECT_EQ(t1.service_tokens, 15);
  EXPECT_DOUBLE_EQ(t0.service_share, 30.0 / 45);
  EXPECT_DOUBLE_EQ(t0.normalised_service, 30.0 / 2.0);  // tokens per second of latency
  EXPECT_DOUBLE_EQ(t1.normalised_service, 15.0 / 3.0);
  EXPECT_DOUBLE_EQ(f.jain, (15.0 + 5) * (15.0 + 5) / (2 * (225.0 + 25)));
  EXPECT_EQ(f.worst_ttft_tenant, 1);
  EXPECT_DOUBLE_EQ(f.worst_ttft_p99, 2.2);
  EXPECT_DOUBLE_EQ(t0.slo_attainment, 0.0);  // TPOT 0.2 > 0.1
}

TEST(ReportSlo, JsonAndTableCarryTheSloAndTenants) {
  std::vector<RequestRecord> rs = {rec(0, 0, 0.1, 0.05, 4), rec(1, 0.5, 0.5, 0.05, 4)};
  Report r = Report::from_records(rs, distserve());
  r.tenant_names = {"chat", "batch"};
  const nlohmann::json j = r.to_json();
  EXPECT_DOUBLE_EQ(j["slo"]["attainment"].get<double>(), 0.5);
  EXPECT_EQ(j["slo"]["attained"], false);
  EXPECT_EQ(j["tenants"][1]["name"], "batch");
  const std::string t = r.to_table();
  EXPECT_NE(t.find("50.0% of requests met"), std::string::npos) << t;
  EXPECT_NE(t.find("batch"), std::string::npos) << t;
  r.set_slo(SloSpec{});
  EXPECT_FALSE(r.to_json().contains("slo"));
}

}  // namespace
}  // namespace bricks::engine
