// The generator: determinism, arrivals, lengths, tenants, conversations, shared prefixes,
// and retargeting for benchmarks. No tokenizer: prompts are lengths only, as on sim.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "workload/workload.h"
#include "workload_support.h"

namespace bricks::engine {
namespace {

using bricks::manifest::Workload;

Workload basic(int32_t n, double rate) {
  Workload w;
  auto* g = w.mutable_generator();
  g->set_num_requests(n);
  g->set_rate(rate);
  g->set_prompt_len_min(8);
  g->set_prompt_len_max(64);
  g->set_output_len_min(4);
  g->set_output_len_max(16);
  g->set_seed(42);
  return w;
}

double gap_cv(const std::vector<RequestSpec>& rs, double* mean_out) {
  std::vector<double> g;
  for (size_t i = 1; i < rs.size(); ++i) g.push_back(rs[i].arrival_s - rs[i - 1].arrival_s);
  const double mean = std::accumulate(g.begin(), g.end(), 0.0) / static_cast<double>(g.size());
  double var = 0;
  for (double x : g) var += (x - mean) * (x - mean);
  *mean_out = mean;
  return std::sqrt(var / static_cast<double>(g.size() - 1)) / mean;
}

TEST(Generator, SameSeedSameWorkloadOtherSeedDiffers) {
  const Workload w = basic(50, 5);
  const auto a = make_workload(w, ctx()), b = make_workload(w, ctx());
  ASSERT_EQ(a.size(), 50u);
  ASSERT_EQ(b.size(), 50u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_EQ(a[i].max_new_tokens, b[i].max_new_tokens);
  }
  Workload w2 = w;
  w2.mutable_generator()->set_seed(43);
  EXPECT_NE(make_workload(w2, ctx())[3].prompt, a[3].prompt);
}

TEST(Generator, LengthsInRangeTokensInVocabNoBosWithoutTokenizer) {
  for (const RequestSpec& r : make_workload(basic(200, 0), ctx())) {
    EXPECT_EQ(r.arrival_s, 0.0);
    ASSERT_GE(r.prompt.size(), 8u);
    ASSERT_LE(r.prompt.size(), 64u);
    EXPECT_GE(r.max_new_tokens, 4);
    EXPECT_LE(r.max_new_tokens, 16);
    for (int32_t t : r.prompt) {
      ASSERT_GE(t, 259);
      ASSERT_LT(t, 32000);
    }
  }
}

TEST(Generator, PoissonArrivalsAtTheRate) {
  double mean = 0;
  const auto rs = make_workload(basic(20000, 8), ctx());
  EXPECT_EQ(rs.front().arrival_s, 0.0);
  EXPECT_TRUE(std::is_sorted(rs.begin(), rs.end(), [](const auto& a, const auto& b) {
    return a.arrival_s < b.arrival_s;
  }));
  EXPECT_NEAR(gap_cv(rs, &mean), 1.0, 0.03);
  EXPECT_NEAR(mean, 0.125, 0.125 * 0.03);
}

TEST(Generator, GammaArrivalsHaveTheAskedCv) {
  Workload w = basic(20000, 8);
  w.mutable_generator()->mutable_arrival()->set_process("gamma");
  w.mutable_generator()->mutable_arrival()->set_cv(3.0);
  double mean = 0;
  EXPECT_NEAR(gap_cv(make_workload(w, ctx()), &mean), 3.0, 3.0 * 0.1);
  EXPECT_NEAR(mean, 0.125, 0.125 * 0.1);
}

TEST(Generator, LognormalPromptLengthsHaveTheAskedMedian) {
  Workload w = basic(8000, 0);
  auto* d = w.mutable_generator()->mutable_prompt_len();
  w.mutable_generator()->clear_prompt_len_min();
  w.mutable_generator()->clear_prompt_len_max();
  d->set_kind("lognormal");
  d->set_median(120);
  d->set_p90(400);
  std::vector<size_t> lens;
  for (const RequestSpec& r : make_workload(w, ctx())) lens.push_back(r.prompt.size());
  std::sort(lens.begin(), lens.end());
  EXPECT_NEAR(static_cast<double>(lens[lens.size() / 2]), 120, 120 * 0.05);
  EXPECT_NEAR(static_cast<double>(lens[lens.size() * 9 / 10]), 400, 400 * 0.05);
}

TEST(Generator, TenantSharesAndPriorities) {
  Workload w = basic(12000, 10);
  auto* g = w.mutable_generator();
  for (auto [share, prio] : {std::pair{1.0, 0}, {2.0, 5}, {1.0, 1}}) {
    auto* t = g->add_tenants();
    t->set_share(share);
    t->set_priority(prio);
  }
  std::map<int32_t, int> count;
  for (const RequestSpec& r : make_workload(w, ctx())) {
    ++count[r.tenant];
    EXPECT_EQ(r.priority, (std::vector<int32_t>{0, 5, 1}[r.tenant]));
  }
  EXPECT_NEAR(count[0] / 12000.0, 0.25, 0.015);
  EXPECT_NEAR(count[1] / 12000.0, 0.50, 0.015);
  EXPECT_NEAR(count[2] / 12000.0, 0.25, 0.015);
}

TEST(Generator, TenantsWithOwnRatesArriveAtThoseRates) {
  Workload w = basic(9000, 0);
  auto* g = w.mutable_generator();
  g->add_tenants()->set_rate(2);
  g->add_tenants()->set_rate(4);
  std::map<int32_t, std::vector<double>> arrivals;
  for (const RequestSpec& r : make_workload(w, ctx())) arrivals[r.tenant].push_back(r.arrival_s);
  ASSERT_EQ(arrivals[0].size(), 3000u);
  ASSERT_EQ(arrivals[1].size(), 6000u);
  EXPECT_NEAR(3000 / arrivals[0].back(), 2.0, 0.1);
  EXPECT_NEAR(6000 / arrivals[1].back(), 4.0, 0.2);
}

TEST(Generator, DurationBoundsArrivals) {
  Workload w = basic(0, 20);
  w.mutable_generator()->set_duration_s(50);
  const auto rs = make_workload(w, ctx());
  EXPECT_NEAR(static_cast<double>(rs.size()), 1000, 100);
  for (const RequestSpec& r : rs) EXPECT_LT(r.arrival_s, 50);
}

TEST(Generator, MultiTurnPromptsExtendThePreviousTurn) {
  Workload w = basic(0, 2);
  auto* c = w.mutable_generator()->mutable_conversations();
  c->set_count(20);
  c->set_turns(4);
  c->set_think_time_s(3);
  const auto rs = make_workload(w, ctx());
  ASSERT_EQ(rs.size(), 80u);
  std::map<uint64_t, std::vector<const RequestSpec*>> convs;
  for (const RequestSpec& r : rs) convs[r.conversation].push_back(&r);
  ASSERT_EQ(convs.size(), 20u);
  for (auto& [id, turns] : convs) {
    ASSERT_NE(id, 0u);
    std::sort(turns.begin(), turns.end(), [](auto* a, auto* b) { return a->turn < b->turn; });
    ASSERT_EQ(turns.size(), 4u);
    for (size_t k = 1; k < turns.size(); ++k) {
      const RequestSpec& prev = *turns[k - 1];
      const RequestSpec& cur = *turns[k];
      EXPECT_EQ(cur.turn, static_cast<int32_t>(k));
      EXPECT_GT(cur.arrival_s, prev.arrival_s);
      // previous prompt + previous output (placeholder) + at least 8 new user tokens.
      ASSERT_GE(cur.prompt.size(), prev.prompt.size() + prev.max_new_tokens + 8);
      EXPECT_TRUE(std::equal(prev.prompt.begin(), prev.prompt.end(), cur.prompt.begin()));
    }
  }
}

TEST(Generator, ConversationEndsAtMaxPromptLen) {
  Workload w = basic(0, 2);
  auto* c = w.mutable_generator()->mutable_conversations();
  c->set_count(10);
  c->set_turns(50);
  c->set_max_prompt_len(300);
  const auto rs = make_workload(w, ctx());
  EXPECT_LT(rs.size(), 500u);
  for (const RequestSpec& r : rs) EXPECT_LE(r.prompt.size(), 300u);
}

TEST(Generator, SharedPrefixGroups) {
  Workload w = basic(12, 0);
  w.mutable_generator()->set_shared_prefix_len(6);
  w.mutable_generator()->set_prefix_group_size(4);
  const auto rs = make_workload(w, ctx());
  for (const RequestSpec& r : rs) {
    const RequestSpec& first = rs[(r.prefix_group - 1) * 4];
    EXPECT_TRUE(std::equal(first.prompt.begin(), first.prompt.begin() + 6, r.prompt.begin()));
  }
  EXPECT_FALSE(std::equal(rs[0].prompt.begin(), rs[0].prompt.begin() + 6, rs[4].prompt.begin()));
}

TEST(Generator, RetargetSetsRateCountAndScalesTenantRates) {
  Workload w = basic(10, 1);
  auto* g = w.mutable_generator();
  g->add_tenants()->set_rate(1);
  g->add_tenants()->set_rate(3);
  retarget_generator(*g, 8, 40, 0);
  EXPECT_EQ(g->num_requests(), 40);
  EXPECT_DOUBLE_EQ(g->tenants(0).rate(), 2);
  EXPECT_DOUBLE_EQ(g->tenants(1).rate(), 6);
  g->mutable_conversations()->set_turns(3);
  retarget_generator(*g, 8, 40, 0);
  EXPECT_EQ(g->conversations().count(), 14);
  EXPECT_EQ(g->num_requests(), 0);
  retarget_generator(*g, 8, 0, 5);
  EXPECT_DOUBLE_EQ(g->duration_s(), 5);
}

TEST(Generator, NoCountNoDurationIsAnError) {
  EXPECT_THROW(make_workload(basic(0, 1), ctx()), WorkloadError);
}

}  // namespace
}  // namespace bricks::engine
