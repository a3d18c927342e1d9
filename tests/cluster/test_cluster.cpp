// The cluster: disaggregated prefill/decode instances and the colocated baseline, on toy
// devices, with the real scheduler and kv bricks.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cluster/cluster.h"
#include "toy_cluster.h"

namespace bricks::testing {
namespace {

using engine::Cluster;
using engine::ClusterRequest;
using engine::FinishReason;
using engine::InstanceRole;
using engine::Placement;
using engine::Request;

const Request* engine_request(const engine::Engine& e, uint64_t id) {
  for (const Request* r : e.ended()) {
    if (r->id == id) return r;
  }
  return nullptr;
}

Placement disagg(int32_t prefill, int32_t decode) { return Placement{true, prefill, 1, decode, 1}; }

void run(ToyCluster& tc, const ToyWorkload& w) {
  for (engine::RequestSpec& s : toy_workload(w)) tc.cluster().submit(std::move(s));
  tc.cluster().run_to_completion();
}

TEST(Cluster, EveryRequestEndsAndEveryInstanceFreesItsKv) {
  ToyClusterOptions o;
  o.kv_tokens = 1024;  // with slow decodes, tight enough to preempt on the decode instances
  o.cost.decode_seq_s = 1e-3;
  ToyCluster tc(disagg(2, 2), o);
  ToyWorkload w;
  w.num_requests = 120;
  w.rate = 200;
  w.max_output = 96;
  run(tc, w);
  const Cluster& c = tc.cluster();
  ASSERT_EQ(c.num_ended(), c.requests().size());
  std::set<int32_t> prefills_used, decodes_used;
  for (const ClusterRequest& cr : c.requests()) {
    const Request& m = cr.merged;
    ASSERT_EQ(m.finish, FinishReason::kLength) << "request " << m.id << ": " << m.failure;
    EXPECT_EQ(m.num_generated, m.spec.max_new_tokens);
    EXPECT_EQ(m.token_times_s.size(), static_cast<size_t>(m.spec.max_new_tokens));
    EXPECT_TRUE(std::is_sorted(m.token_times_s.begin(), m.token_times_s.end()));
    prefills_used.insert(cr.first_instance);
    decodes_used.insert(cr.decode_instance);
    EXPECT_EQ(c.instances()[cr.first_instance].role, InstanceRole::kPrefill);
    EXPECT_EQ(c.instances()[cr.decode_instance].role, InstanceRole::kDecode);
  }
  EXPECT_EQ(prefills_used.size(), 2u);
  EXPECT_EQ(decodes_used.size(), 2u);
  for (const engine::ClusterInstance& in : c.instances()) {
    const bricks_kv_stats s = in.engine->kv_stats();
    EXPECT_EQ(s.free_device_blocks, s.num_device_blocks) << "KV left behind";
    EXPECT_EQ(in.engine->num_live(), 0u);
  }
  EXPECT_EQ(c.stats().handoffs, static_cast<int64_t>(c.requests().size()));
  EXPECT_GT(c.stats().preemptions, 0) << "the workload never preempted: it tests less";
  const engine::Report rep = c.report();
  EXPECT_EQ(rep.submitted, c.requests().size());
  EXPECT_EQ(rep.finished, c.requests().size());
  EXPECT_EQ(rep.ttft.count, c.requests().size());
}

TEST(Cluster, TtftIsThePrefillInstancesFirstTokenTime) {
  ToyCluster tc(disagg(2, 1), ToyClusterOptions{});
  run(tc, ToyWorkload{});
  const Cluster& c = tc.cluster();
  for (const ClusterRequest& cr : c.requests()) {
    const Request* first = engine_request(*c.instances()[cr.first_instance].engine,
                                          cr.first_engine_id);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(first->token_times_s.size(), 1u);
    EXPECT_EQ(cr.merged.token_times_s.front(), first->token_times_s.front());
    EXPECT_EQ(cr.handoff_s, first->token_times_s.front());
    EXPECT_EQ(cr.merged.first_scheduled_s, first->first_scheduled_s);
    const engine::RequestRecord rec = engine::record_of(cr.merged);
    EXPECT_DOUBLE_EQ(rec.ttft_s, first->token_times_s.front() - cr.merged.spec.arrival_s);
  }
}

TEST(Cluster, DecodeInstancesComputeNoTransferredToken) {
  ToyCluster tc(disagg(1, 2), ToyClusterOptions{});
  run(tc, ToyWorkload{});
  const Cluster& c = tc.cluster();
  for (const ClusterRequest& cr : c.requests()) {
    const int32_t prompt = cr.merged.prompt_len();
    const ToyCharge& pre = tc.device(cr.first_instance).charges().at(cr.first_engine_id);
    EXPECT_EQ(pre.computed, prompt) << "the prefill instance computes the prompt once";
    const Request* dec = engine_request(*c.instances()[cr.decode_instance].engine,
                                        cr.decode_engine_id);
    ASSERT_NE(dec, nullptr);
    ASSERT_EQ(dec->num_preemptions, 0) << "the workload must not preempt here";
    EXPECT_EQ(dec->spec.kv_ready_tokens, prompt);
    EXPECT_EQ(dec->prompt_len(), prompt + 1) << "the prompt and the first token";
    const ToyCharge& d = tc.device(cr.decode_instance).charges().at(cr.decode_engine_id);
    EXPECT_EQ(d.free, prompt) << "the transferred KV is allocated, not computed";
    EXPECT_EQ(d.computed, cr.merged.spec.max_new_tokens - 1)
        << "one token per decode step, starting with the first token's KV";
  }
}

TEST(Cluster, TheKvTransferDelaysTheDecodeArrival) {
  for (bool layerwise : {false, true}) {
    SCOPED_TRACE(layerwise ? "layerwise" : "after prefill");
    ToyClusterOptions o;
    o.link.bytes_per_s = 2e6;  // slow enough to matter: 1000 B/token -> 0.5 ms/token
    o.link.latency_s = 3e-3;
    o.link.layerwise = layerwise;
    o.link.num_layers = 4;
    ToyCluster tc(disagg(1, 1), o);
    run(tc, ToyWorkload{});
    const Cluster& c = tc.cluster();
    for (const ClusterRequest& cr : c.requests()) {
      const double transfer = cr.merged.prompt_len() * o.kv_bytes_per_token / o.link.bytes_per_s;
      const double prefill = cr.handoff_s - cr.merged.first_scheduled_s;
      const double expect = o.link.latency_s +
                            (layerwise ? std::max(transfer / 4, transfer - prefill) : transfer);
      EXPECT_NEAR(cr.kv_ready_s - cr.handoff_s, expect, 1e-12);
      const Request* dec = engine_request(*c.instances()[cr.decode_instance].engine,
                                          cr.decode_engine_id);
      ASSERT_NE(dec, nullptr);
      EXPECT_EQ(dec->spec.arrival_s, cr.kv_ready_s);
      EXPECT_GE(dec->first_scheduled_s, cr.kv_ready_s);
      EXPECT_GT(cr.merged.token_times_s[1], cr.kv_ready_s);
      EXPECT_EQ(cr.kv_bytes, static_cast<int64_t>(cr.merged.prompt_len() * o.kv_bytes_per_token));
    }
  }
}

TEST(Cluster, DeterministicGivenTheSameRequests) {
  std::vector<std::vector<double>> first;
  for (int run_index = 0; run_index < 2; ++run_index) {
    ToyClusterOptions o;
    o.kv_tokens = 2048;
    ToyCluster tc(disagg(2, 2), o);
    ToyWorkload w;
    w.rate = 150;
    run(tc, w);
    std::vector<std::vector<double>> times;
    for (const ClusterRequest& cr : tc.cluster().requests()) {
      times.push_back(cr.merged.token_times_s);
      times.back().push_back(cr.first_instance * 10 + cr.decode_instance);
    }
    if (run_index == 0) {
      first = times;
    } else {
      EXPECT_EQ(times, first);
    }
  }
}

TEST(Cluster, ColocatedBaselineServesEveryRequestOnOneInstance) {
  for (const char* scheduler : {"sarathi", "fcfs"}) {
    SCOPED_TRACE(scheduler);
    ToyClusterOptions o;
    o.colocated_scheduler = scheduler;
    ToyCluster tc(Placement{false, 3, 1, 0, 1}, o);
    run(tc, ToyWorkload{});
    const Cluster& c = tc.cluster();
    EXPECT_FALSE(c.disaggregated());
    std::vector<int32_t> per(3, 0);
    for (const ClusterRequest& cr : c.requests()) {
      EXPECT_EQ(cr.merged.finish, FinishReason::kLength) << cr.merged.failure;
      EXPECT_EQ(cr.merged.num_generated, cr.merged.spec.max_new_tokens);
      EXPECT_EQ(cr.decode_instance, -1);
      const Request* r = engine_request(*c.instances()[cr.first_instance].engine,
                                        cr.first_engine_id);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->token_times_s, cr.merged.token_times_s);
      ++per[cr.first_instance];
    }
    for (int32_t n : per) EXPECT_GT(n, 0) << "least-loaded routing uses every instance";
    EXPECT_EQ(c.stats().handoffs, 0);
  }
}

TEST(Cluster, ARequestThatCannotRunFailsAloneNamingItsInstance) {
  ToyCluster tc(disagg(1, 1), ToyClusterOptions{});
  std::vector<engine::RequestSpec> work = toy_workload(ToyWorkload{});
  work[3].prompt.assign(static_cast<size_t>(toy_config().context_length), 5);  // too long
  for (engine::RequestSpec& s : work) tc.cluster().submit(std::move(s));
  tc.cluster().run_to_completion();
  const Cluster& c = tc.cluster();
  ASSERT_EQ(c.num_ended(), work.size());
  for (size_t i = 0; i < c.requests().size(); ++i) {
    const Request& m = c.requests()[i].merged;
    if (i == 3) {
      EXPECT_EQ(m.finish, FinishReason::kFailed);
      EXPECT_NE(m.failure.find("prefill instance 0"), std::string::npos) << m.failure;
      EXPECT_NE(m.failure.find("context"), std::string::npos) << m.failure;
    } else {
      EXPECT_EQ(m.finish, FinishReason::kLength) << m.failure;
    }
  }
  EXPECT_EQ(c.report().failed, 1u);
}

TEST(Cluster, AOneTokenRequestEndsOnThePrefillInstance) {
  ToyCluster tc(disagg(1, 1), ToyClusterOptions{});
  engine::RequestSpec s;
  s.prompt.assign(40, 7);
  s.max_new_tokens = 1;
  s.arrival_s = 0.5;
  tc.cluster().submit(s);
  tc.cluster().run_to_completion();
  const ClusterRequest& cr = tc.cluster().requests()[0];
  EXPECT_EQ(cr.merged.finish, FinishReason::kLength);
  EXPECT_EQ(cr.merged.num_generated, 1);
  EXPECT_EQ(cr.decode_instance, -1);
  EXPECT_EQ(tc.cluster().stats().handoffs, 0);
  EXPECT_GE(cr.merged.first_scheduled_s, 0.5) << "it does not start before it arrives";
}

TEST(Cluster, RefusesMalformedClusters) {
  std::vector<std::unique_ptr<host::BrickInstance>> bricks;
  ToyClusterOptions o;
  auto make = [&](const Placement& p) { return toy_instances(p, o, bricks); };
  EXPECT_THROW(Cluster({}, o.link, 1.0), std::invalid_argument);
  {
    std::vector<engine::ClusterInstance> mixed = make(disagg(1, 1));
    for (auto& in : make(Placement{false, 1, 1, 0, 1})) mixed.push_back(std::move(in));
    EXPECT_THROW(Cluster(std::move(mixed), o.link, 1.0), std::invalid_argument);
  }
  {
    std::vector<engine::ClusterInstance> only_prefill = make(disagg(1, 1));
    only_prefill.pop_back();
    EXPECT_THROW(Cluster(std::move(only_prefill), o.link, 1.0), std::invalid_argument);
  }
  {
    engine::KvLink no_bandwidth;
    no_bandwidth.bytes_per_s = 0;
    EXPECT_THROW(Cluster(make(disagg(1, 1)), no_bandwidth, 1.0), std::invalid_argument);
  }
  {
    o.wall_clock = true;
    EXPECT_THROW(Cluster(make(disagg(1, 1)), o.link, 1.0), std::invalid_argument);
  }
}

}  // namespace
}  // namespace bricks::testing
