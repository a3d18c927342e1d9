// The placement search: enumeration within the GPU budget, and the best configuration on
// synthetic cost models whose answer is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "cluster/placement.h"
#include "report/report.h"
#include "runtime/cluster_runtime.h"
#include "toy_cluster.h"

namespace bricks::testing {
namespace {

using engine::Placement;
using engine::PlacementOptions;

TEST(Placement, EnumeratesEveryPlacementWithinTheBudget) {
  PlacementOptions o;
  o.gpus = 4;
  o.tp_choices = {1, 2, 4, 3};  // 3 is kept: any tp the caller allows
  const std::vector<Placement> all = engine::enumerate_placements(o);
  size_t disagg = 0, colocated = 0;
  for (const Placement& p : all) {
    EXPECT_LE(p.gpus(), 4) << p.describe();
    EXPECT_EQ(std::count(all.begin(), all.end(), p), 1) << p.describe();
    (p.disaggregated ? disagg : colocated) += 1;
  }
  // Disaggregated (ptp, dtp): (1,1) has np + nd <= 4: 6; (1,2): np + 2 nd <= 4: 2;
  // (2,1): 2; (2,2): 1; (1,3): 1; (3,1): 1. Colocated: tp1 x1..4, tp2 x1..2, tp3, tp4.
  EXPECT_EQ(disagg, 13u);
  EXPECT_EQ(colocated, 8u);
  EXPECT_EQ(all.front(), (Placement{true, 1, 1, 1, 1}));
}

// Goodput per instance, by phase and tp: a synthetic cost model with a known best. The
// cluster's goodput is the slower phase's total.
double analytic_goodput(const Placement& p) {
  const std::map<int32_t, double> prefill{{1, 2.0}, {2, 5.5}, {4, 7.0}};
  const std::map<int32_t, double> decode{{1, 4.5}, {2, 6.0}, {4, 7.0}};
  const std::map<int32_t, double> colocated{{1, 1.2}, {2, 2.0}, {4, 3.0}};
  if (!p.disaggregated) return p.prefill_instances * colocated.at(p.prefill_tp);
  return std::min(p.prefill_instances * prefill.at(p.prefill_tp),
                  p.decode_instances * decode.at(p.decode_tp));
}

TEST(Placement, EnumeratesPipelineStagesThatUseTheWholeCluster) {
  PlacementOptions o;
  o.gpus = 8;
  o.tp_choices = {2};
  o.pp_choices = {1, 2};
  o.colocated = false;
  o.use_every_gpu = true;
  const std::vector<Placement> all = engine::enumerate_placements(o);
  // Instances of 2 or 4 GPUs filling 8: pp1+pp1: 1+3, 2+2, 3+1; pp1+pp2: 2+1; pp2+pp1:
  // 1+2; pp2+pp2: 1+1.
  ASSERT_EQ(all.size(), 6u);
  for (const Placement& p : all) EXPECT_EQ(p.gpus(), 8) << p.describe();
  EXPECT_EQ(all.back(), (Placement{true, 1, 2, 1, 2, 2, 2}));
  EXPECT_EQ(all.back().describe(), "1 prefill x tp2 pp2 + 1 decode x tp2 pp2");
  EXPECT_EQ(all.front().describe(), "1 prefill x tp2 + 3 decode x tp2");
}

TEST(Placement, FindsTheKnownBestOnAnAnalyticCostModel) {
  PlacementOptions o;
  o.gpus = 4;
  o.tp_choices = {1, 2, 4};
  o.search.rel_tol = 0.01;
  o.search.max_evals = 30;
  size_t told = 0;
  const engine::PlacementSearch s = engine::search_placements(
      o, [](const Placement& p, double rate) { return rate <= analytic_goodput(p); },
      [&told](const engine::PlacementResult&, size_t done, size_t total) {
        ++told;
        EXPECT_LE(done, total);
      });
  EXPECT_EQ(told, s.results.size());
  ASSERT_GE(s.best_disaggregated, 0);
  ASSERT_GE(s.best_colocated, 0);
  // 1 prefill x tp2 + 1 decode x tp1: min(5.5, 4.5) / 3 GPUs = 1.5 per GPU; the runners-up
  // give 1.375 (1 x tp2 + 2 x tp1, 1 x tp2 + 1 x tp2) and 1.333 (2 x tp1 + 1 x tp1).
  const engine::PlacementResult& best = s.results[s.best_disaggregated];
  EXPECT_EQ(best.placement, (Placement{true, 1, 2, 1, 1})) << best.placement.describe();
  EXPECT_NEAR(best.goodput_rps, 4.5, 4.5 * 0.011);
  EXPECT_NEAR(best.per_gpu, 1.5, 0.02);
  EXPECT_TRUE(best.converged);
  // Colocated: tp1 gives 1.2 per GPU whatever the count: a tie, won by fewer GPUs.
  const engine::PlacementResult& col = s.results[s.best_colocated];
  EXPECT_EQ(col.placement, (Placement{false, 1, 1, 0, 1})) << col.placement.describe();
  EXPECT_NEAR(col.per_gpu, 1.2, 0.02);
}

TEST(Placement, APlacementThatCannotBeSimulatedIsSkippedWithItsReason) {
  PlacementOptions o;
  o.gpus = 2;
  o.tp_choices = {1, 2};
  o.colocated = false;
  const engine::PlacementSearch s = engine::search_placements(o, [](const Placement& p, double rate) {
    if (p.prefill_tp == 2 || p.decode_tp == 2) throw std::runtime_error("tp 2 does not fit");
    return rate <= 1.0;
  });
  ASSERT_EQ(s.results.size(), 1u);  // only 1 x tp1 + 1 x tp1 fits two GPUs with tp1
  EXPECT_TRUE(s.results[0].error.empty());
  EXPECT_EQ(s.best_disaggregated, 0);
  EXPECT_EQ(s.best_colocated, -1);

  o.gpus = 3;
  const engine::PlacementSearch t = engine::search_placements(o, [](const Placement& p, double rate) {
    if (p.prefill_tp == 2 || p.decode_tp == 2) throw std::runtime_error("tp 2 does not fit");
    return rate <= 1.0;
  });
  size_t errors = 0;
  for (const engine::PlacementResult& r : t.results) {
    if (!r.error.empty()) {
      ++errors;
      EXPECT_EQ(r.error, "tp 2 does not fit");
      EXPECT_EQ(r.goodput_rps, 0);
    }
  }
  EXPECT_EQ(errors, 2u);
  ASSERT_GE(t.best_disaggregated, 0);
  EXPECT_TRUE(t.results[t.best_disaggregated].error.empty());
}

// The search over real simulations: toy instances whose prefill is expensive and whose
// decode is cheap, so a second prefill instance pays off and a second decode one does not.
TEST(Placement, FindsTheKnownBestBySimulatingToyClusters) {
  ToyClusterOptions o;
  o.cost.step_s = 1e-3;
  o.cost.prefill_token_s = 1e-4;  // a 200-token prompt: 21 ms
  o.cost.decode_seq_s = 1e-5;
  engine::SloSpec slo;
  slo.ttft_s = 0.2;
  slo.tpot_s = 0.01;
  PlacementOptions po;
  po.gpus = 3;
  po.tp_choices = {1};
  po.colocated = false;
  po.search = engine::RateSearchOptions{8.0, 0.05, 0.5, 1e4, 12};
  const engine::PlacementSearch s =
      engine::search_placements(po, [&](const Placement& p, double rate) {
        ToyCluster tc(p, o);
        ToyWorkload w;
        w.num_requests = 150;
        w.rate = rate;
        w.min_prompt = 150;
        w.max_prompt = 250;
        w.min_output = 8;
        w.max_output = 16;
        for (engine::RequestSpec& r : toy_workload(w)) tc.cluster().submit(std::move(r));
        tc.cluster().run_to_completion();
        const engine::Report rep = tc.cluster().report(slo);
        return rep.slo_result.attainment >= slo.attainment;
      });
  ASSERT_EQ(s.results.size(), 3u);  // 1+1, 1+2, 2+1
  ASSERT_GE(s.best_disaggregated, 0);
  const engine::PlacementResult& best = s.results[s.best_disaggregated];
  EXPECT_EQ(best.placement, (Placement{true, 2, 1, 1, 1})) << best.placement.describe();
  const auto one_one = std::find_if(s.results.begin(), s.results.end(), [](const auto& r) {
    return r.placement == Placement{true, 1, 1, 1, 1};
  });
  ASSERT_NE(one_one, s.results.end());
  EXPECT_GT(best.goodput_rps, 1.5 * one_one->goodput_rps)
      << "two prefill instances serve about twice the rate of one";
}

// A run past its capacity: its early requests are served at once, its late ones queue.
TEST(Placement, ARunWhoseLateRequestsMissTheSloDoesNotPass) {
  engine::SloSpec slo;
  slo.ttft_s = 0.25;
  slo.tpot_s = 0.1;
  std::vector<engine::RequestRecord> records;
  for (int32_t i = 0; i < 20; ++i) {
    engine::RequestRecord r;
    r.arrival_s = 19 - i;  // out of order: the check sorts by arrival
    r.output_tokens = 4;
    r.ttft_s = 0.1;
    r.tpot_s = 0.05;
    records.push_back(r);
  }
  EXPECT_TRUE(engine::meets_attainment(records, slo));
  records[0].ttft_s = 1.0;  // arrival 19: late
  records[1].ttft_s = 1.0;  // arrival 18: late; 18 of 20 met overall, 8 of the last 10
  EXPECT_FALSE(engine::meets_attainment(records, slo));
  records[1].ttft_s = 0.1;
  records[19].ttft_s = 1.0;  // arrival 0: early; 18 of 20 overall, 9 of the last 10
  EXPECT_TRUE(engine::meets_attainment(records, slo));
  records[18].failed = true;  // a failed request never meets the SLO: 17 of 20
  EXPECT_FALSE(engine::meets_attainment(records, slo));
  EXPECT_FALSE(engine::meets_attainment({}, slo));
}

}  // namespace
}  // namespace bricks::testing
