// Instances on a topology (cluster/topology_layout.h, kv_network.h): the self-adapting
// partition, the NIC-oblivious and NIC-aware layouts of small topologies whose best answer
// can be worked out by hand, the KV transfers' queues, and a cluster that hands off only
// along its layout.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/kv_network.h"
#include "cluster/stage_partition.h"
#include "cluster/topology.h"
#include "cluster/topology_layout.h"
#include "toy_cluster.h"

namespace bricks::testing {
namespace {

using engine::ClusterLayout;
using engine::InstanceRole;
using engine::LinkKind;
using engine::Placement;
using engine::Topology;

Topology topology(const std::string& text) { return engine::parse_topology(text, "t", "."); }

std::string node(const std::string& name, int gpus, const std::string& nic) {
  return "nodes { name: \"" + name + "\" gpus: " + std::to_string(gpus) +
         " gpu: \"a100-80gb\" nic { " + nic + " } }\n";
}

// Two InfiniBand nodes on one fabric and two Ethernet-only nodes, two GPUs each.
Topology ib_and_ethernet() {
  return topology(node("ib-0", 2, "kind: INFINIBAND gbps: 200") +
                  node("ib-1", 2, "kind: INFINIBAND gbps: 200") +
                  node("eth-0", 2, "kind: ETHERNET gbps: 25") +
                  node("eth-1", 2, "kind: ETHERNET gbps: 25") +
                  "fabrics { name: \"ib\" nodes: [\"ib-0\", \"ib-1\"] }\n");
}

// KV far heavier than activations, as in a real model (MB against KB per request).
engine::LayoutInputs heavy_kv(int32_t layers) {
  engine::LayoutInputs in;
  in.layers = layers;
  in.kv_bytes_per_layer = 1e7;
  for (engine::RoleLoad* r : {&in.prefill, &in.decode}) {
    r->layer_s = 1e-3;
    r->step_act_bytes = 1e5;
    r->request_act_bytes = 1e5;
  }
  return in;
}

std::vector<int32_t> nodes_of(const engine::InstanceLayout& il) {
  std::vector<int32_t> out;
  for (const engine::StageSlot& s : il.stages) out.push_back(s.node);
  return out;
}

TEST(AdaptiveLayers, SlowLinksGetFewerLayers) {
  // Stage 0's send costs three layers' time: 10 layers split 4 + 6 (7 and 6 of time).
  EXPECT_EQ(engine::adaptive_layers(10, {1.0}, {{3.0, 0.0}}), (std::vector<int32_t>{4, 6}));
  // Nothing fixed: even; the output projection on the last stage: fewer there.
  EXPECT_EQ(engine::adaptive_layers(10, {1.0}, {{0.0, 0.0}}), (std::vector<int32_t>{5, 5}));
  EXPECT_EQ(engine::adaptive_layers(10, {1.0}, {{0.0, 2.0}}), (std::vector<int32_t>{6, 4}));
  // Two instances sharing one partition: stage 0 takes max(n + 3, 2n), stage 1 2n; the
  // best of the splits is 5 + 5 (10 against 12 for 4 + 6 or 6 + 4).
  EXPECT_EQ(engine::adaptive_layers(10, {1.0, 2.0}, {{3.0, 0.0}, {0.0, 0.0}}),
            (std::vector<int32_t>{5, 5}));
  // Where the stages' NICs carry their layers' KV and that outweighs the compute (2 per
  // layer against 1), the NIC's share sets the split: even despite stage 0's slow send.
  EXPECT_EQ(engine::adaptive_layers(10, {1.0}, {{3.0, 0.0}}, {{2.0, 2.0}}),
            (std::vector<int32_t>{5, 5}));
  // Every stage keeps a layer however slow its link.
  EXPECT_EQ(engine::adaptive_layers(3, {1.0}, {{100.0, 0.0, 0.0}}),
            (std::vector<int32_t>{1, 1, 1}));
}

TEST(TopologyLayout, ObliviousFillsNodesInFileOrderAndSendsEverywhere) {
  const Topology t = ib_and_ethernet();
  const ClusterLayout l = engine::oblivious_layout(t, Placement{true, 2, 2, 2, 2}, heavy_kv(4));
  ASSERT_EQ(l.instances.size(), 4u);
  EXPECT_FALSE(l.nic_aware);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(nodes_of(l.instances[i]), (std::vector<int32_t>{static_cast<int32_t>(i)}));
  }
  EXPECT_EQ(l.instances[0].role, InstanceRole::kPrefill);
  EXPECT_EQ(l.instances[2].role, InstanceRole::kDecode);
  EXPECT_EQ(l.instances[0].kv_targets, (std::vector<size_t>{2, 3}));
  EXPECT_TRUE(l.instances[2].kv_targets.empty());
  // Both prefill instances send from InfiniBand to Ethernet nodes: TCP.
  EXPECT_NE(l.describe(t).find("prefill 0 (tp2): ib-0 L0-3; KV to every decode over tcp"),
            std::string::npos)
      << l.describe(t);
}

TEST(TopologyLayout, NicAwarePairsPrefillAndDecodeOnTheFabric) {
  const Topology t = ib_and_ethernet();
  const ClusterLayout l = engine::nic_aware_layout(t, Placement{true, 2, 2, 2, 2}, heavy_kv(4));
  ASSERT_EQ(l.instances.size(), 4u);
  // Two cells of one prefill and one decode instance: the first on the fabric, the second
  // on the Ethernet nodes (all that is left).
  EXPECT_EQ(nodes_of(l.instances[0]), (std::vector<int32_t>{0}));
  EXPECT_EQ(nodes_of(l.instances[2]), (std::vector<int32_t>{1}));
  EXPECT_EQ(nodes_of(l.instances[1]), (std::vector<int32_t>{2}));
  EXPECT_EQ(nodes_of(l.instances[3]), (std::vector<int32_t>{3}));
  EXPECT_EQ(l.instances[0].kv_targets, (std::vector<size_t>{2}));
  EXPECT_EQ(l.instances[1].kv_targets, (std::vector<size_t>{3}));
  // Half the KV over RDMA instead of none: cheaper than the oblivious layout.
  const ClusterLayout o = engine::oblivious_layout(t, Placement{true, 2, 2, 2, 2}, heavy_kv(4));
  EXPECT_LT(l.traffic_cost_s, o.traffic_cost_s);
  EXPECT_NE(l.describe(t).find("KV to decode 0 over rdma"), std::string::npos) << l.describe(t);
}

TEST(TopologyLayout, NicAwareSendsOverSlowerLinksRatherThanOverloadADecodeInstance) {
  // One cell of a prefill and three decode instances: decode 0 and the prefill instance
  // share the fabric, decode 1 and 2 sit on the Ethernet nodes. Only decode 0 is reached
  // over RDMA, but it would get every request against a share of a third: the prefill
  // instance sends to all three instead.
  const Topology t = ib_and_ethernet();
  const ClusterLayout l = engine::nic_aware_layout(t, Placement{true, 1, 2, 3, 2}, heavy_kv(4));
  EXPECT_EQ(nodes_of(l.instances[1]), (std::vector<int32_t>{0}));  // decode 0
  EXPECT_EQ(nodes_of(l.instances[0]), (std::vector<int32_t>{1}));  // the prefill instance
  EXPECT_EQ(l.instances[0].kv_targets, (std::vector<size_t>{1, 2, 3}));
}

TEST(TopologyLayout, NicAwareKeepsKvInsideNodesAndSendsActivationsOverTheNetwork) {
  // Two Ethernet nodes of four GPUs; one prefill and one decode instance of two stages of
  // two GPUs each. Whole instances per node would send all KV over TCP; stage s of both
  // on node s keeps the KV on NVLink and sends only activations between the nodes.
  const Topology t =
      topology(node("a", 4, "kind: ETHERNET gbps: 25") + node("b", 4, "kind: ETHERNET gbps: 25"));
  const Placement p{true, 1, 2, 1, 2, 2, 2};
  const ClusterLayout l = engine::nic_aware_layout(t, p, heavy_kv(8));
  ASSERT_EQ(l.instances.size(), 2u);
  EXPECT_EQ(nodes_of(l.instances[0]), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(nodes_of(l.instances[1]), (std::vector<int32_t>{0, 1}));
  ASSERT_EQ(l.instances[0].links.size(), 1u);
  EXPECT_EQ(l.instances[0].links[0].kind, LinkKind::kTcp);
  // One partition for both, so each stage's KV stays on its node.
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(l.instances[0].stages[s].first_layer, l.instances[1].stages[s].first_layer);
    EXPECT_EQ(l.instances[0].stages[s].layers, l.instances[1].stages[s].layers);
  }
  EXPECT_NE(l.describe(t).find("KV to decode 0 over nvlink"), std::string::npos) << l.describe(t);
  // The oblivious layout puts each instance on a node of its own: KV over TCP.
  const ClusterLayout o = engine::oblivious_layout(t, p, heavy_kv(8));
  EXPECT_EQ(nodes_of(o.instances[0]), (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(nodes_of(o.instances[1]), (std::vector<int32_t>{1, 1}));
  EXPECT_GT(o.traffic_cost_s, 10 * l.traffic_cost_s);
}

TEST(TopologyLayout, NicAwareGivesTheStageBeforeASlowLinkFewerLayers) {
  // One instance of two stages, each a whole node, over TCP; the send takes 5 layers' time.
  const Topology t =
      topology(node("a", 2, "kind: ETHERNET gbps: 25") + node("b", 2, "kind: ETHERNET gbps: 25") +
               node("c", 2, "kind: ETHERNET gbps: 25") + node("d", 2, "kind: ETHERNET gbps: 25"));
  engine::LayoutInputs in = heavy_kv(20);
  in.prefill.step_act_bytes = 5e-3 * 1.875e9 - 50e-6 * 1.875e9;  // 5 ms with the latency
  const Placement p{true, 1, 2, 1, 2, 2, 2};
  const ClusterLayout l = engine::nic_aware_layout(t, p, in);
  // Stage 0 of the prefill instance: L0 ms + 5 ms against 20 - L0 ms: 8 + 12.
  EXPECT_EQ(l.instances[0].stages[0].layers, 8);
  EXPECT_EQ(l.instances[0].stages[1].layers, 12);
  // The oblivious layout splits evenly.
  EXPECT_EQ(engine::oblivious_layout(t, p, in).instances[0].stages[0].layers, 10);
}

TEST(TopologyLayout, RefusesWhatDoesNotFit) {
  const Topology t = ib_and_ethernet();
  EXPECT_THROW(engine::nic_aware_layout(t, Placement{true, 3, 2, 2, 2}, heavy_kv(4)),
               engine::TopologyError);  // 10 GPUs on 8
  try {
    engine::oblivious_layout(t, Placement{true, 1, 4, 1, 4}, heavy_kv(4));
    FAIL() << "a 4-GPU group fitted a 2-GPU node";
  } catch (const engine::TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit in a node"), std::string::npos) << e.what();
  }
  EXPECT_THROW(engine::nic_aware_layout(t, Placement{true, 1, 1, 1, 1, 8, 1}, heavy_kv(4)),
               engine::TopologyError);  // more stages than layers
}

// One prefill instance on node 0 holding 4 layers, one decode instance on node `to`.
ClusterLayout pair_layout(int32_t from, int32_t to, int32_t tp = 2) {
  ClusterLayout l;
  l.instances.push_back({InstanceRole::kPrefill, tp, {{from, 0, 4}}, {}, {1}});
  l.instances.push_back({InstanceRole::kDecode, tp, {{to, 0, 4}}, {}, {}});
  return l;
}

TEST(KvNetwork, TransfersQueueOnTheNicsAndNotInsideANode) {
  const Topology t = ib_and_ethernet();
  // 1000 tokens x 4 layers x 1000 B = 4 MB over RDMA at 22.5 GB/s: 177.78 us + 5 us.
  engine::KvNetwork rdma(t, pair_layout(0, 1), 1000);
  const double one = 4e6 / 22.5e9;
  EXPECT_NEAR(rdma.transfer(0, 1, 1000, 0.0), one + 5e-6, 1e-12);
  // A second at the same time waits for the first on both NICs.
  EXPECT_NEAR(rdma.transfer(0, 1, 1000, 0.0), 2 * one + 5e-6, 1e-12);
  // One that starts after they are done does not wait.
  EXPECT_NEAR(rdma.transfer(0, 1, 1000, 1.0), 1.0 + one + 5e-6, 1e-12);
  // To an Ethernet node: TCP at 25 Gbit/s x 0.6, 50 us.
  engine::KvNetwork tcp(t, pair_layout(0, 2), 1000);
  EXPECT_NEAR(tcp.transfer(0, 1, 1000, 0.0), 4e6 / 1.875e9 + 50e-6, 1e-12);
  // Inside a node: NVLink (240 GB/s) per GPU of the smaller group, no queue.
  engine::KvNetwork local(t, pair_layout(0, 0), 1000);
  EXPECT_NEAR(local.transfer(0, 1, 1000, 0.0), 4e6 / 480e9 + 5e-6, 1e-12);
  EXPECT_NEAR(local.transfer(0, 1, 1000, 0.0), 4e6 / 480e9 + 5e-6, 1e-12);
}

TEST(KvNetwork, AnRdmaNodesOwnTcpPortDoesNotHoldUpItsRdma) {
  const Topology t = topology(node("a", 2, "kind: INFINIBAND gbps: 200 tcp_gbps: 25") +
                              node("b", 2, "kind: INFINIBAND gbps: 200") +
                              node("c", 2, "kind: ETHERNET gbps: 25") +
                              "fabrics { name: \"ib\" nodes: [\"a\", \"b\"] }\n");
  ClusterLayout l = pair_layout(0, 1);
  l.instances.push_back({InstanceRole::kDecode, 2, {{2, 0, 4}}, {}, {}});
  l.instances[0].kv_targets = {1, 2};
  engine::KvNetwork net(t, l, 1000);
  EXPECT_NEAR(net.transfer(0, 2, 1000, 0.0), 4e6 / 1.875e9 + 50e-6, 1e-12);  // TCP port
  EXPECT_NEAR(net.transfer(0, 1, 1000, 0.0), 4e6 / 22.5e9 + 5e-6, 1e-12);    // RDMA: free
  EXPECT_EQ(net.targets(0), (std::vector<size_t>{1, 2}));
}

TEST(KvNetwork, StagesSendTheLayersTheyShareInParallel) {
  // Prefill: layers 0-1 on node 0, 2-3 on node 1; decode: all 4 on node 1. Node 0 sends
  // half the KV over RDMA, node 1 keeps its half inside the node.
  const Topology t = ib_and_ethernet();
  ClusterLayout l;
  l.instances.push_back({InstanceRole::kPrefill, 2, {{0, 0, 2}, {1, 2, 2}}, {}, {1}});
  l.instances.push_back({InstanceRole::kDecode, 2, {{1, 0, 4}}, {}, {}});
  engine::KvNetwork net(t, l, 1000);
  EXPECT_NEAR(net.transfer(0, 1, 1000, 0.0), 2e6 / 22.5e9 + 5e-6, 1e-12);
}

TEST(KvNetwork, TheClusterHandsOffOnlyToTheLayoutsTargets) {
  // Two cells: prefill 0 -> decode 2, prefill 1 -> decode 3 (cluster indices).
  const Topology t = ib_and_ethernet();
  const ClusterLayout l = engine::nic_aware_layout(t, Placement{true, 2, 2, 2, 2}, heavy_kv(2));
  ToyClusterOptions o;
  ToyCluster tc(Placement{true, 2, 1, 2, 1}, o);
  tc.cluster().set_kv_network(std::make_shared<engine::KvNetwork>(t, l, 1000.0));
  ToyWorkload w;
  w.num_requests = 40;
  for (engine::RequestSpec& s : toy_workload(w)) tc.cluster().submit(std::move(s));
  tc.cluster().run_to_completion();
  int32_t to_decode[4] = {0, 0, 0, 0};
  for (const engine::ClusterRequest& r : tc.cluster().requests()) {
    ASSERT_GE(r.decode_instance, 2) << "request " << r.merged.id << " never reached decode";
    EXPECT_EQ(r.decode_instance, r.first_instance + 2);
    EXPECT_GT(r.kv_ready_s, r.handoff_s);
    ++to_decode[r.decode_instance];
  }
  // Idle prefill instances tie; the tie goes to the cell whose decode instance is less
  // loaded, so both cells serve.
  EXPECT_GT(to_decode[2], 5);
  EXPECT_GT(to_decode[3], 5);
  EXPECT_THROW(
      tc.cluster().set_kv_network(std::make_shared<engine::KvNetwork>(
          t, engine::nic_aware_layout(t, Placement{true, 1, 2, 1, 2}, heavy_kv(2)), 1000.0)),
      std::invalid_argument);
}

}  // namespace
}  // namespace bricks::testing
