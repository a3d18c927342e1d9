// The topology file (cluster/topology.h): a good file read whole, the links between its
// nodes worked out by hand, each mistake met with one error naming the place and the fix,
// and the shipped topologies.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cluster/topology.h"

namespace bricks::testing {
namespace {

using engine::LinkKind;
using engine::Topology;
using engine::TopologyError;

constexpr const char* kGood = R"(name: "lab"
nodes { name: "a" gpus: 4 gpu: "a100-80gb" nic { kind: INFINIBAND gbps: 200 } }
nodes { name: "b" gpus: 4 gpu: "a100-80gb" nic { kind: INFINIBAND gbps: 100 tcp_gbps: 25 } }
nodes { name: "c" gpus: 2 gpu: "a100-80gb" nic { kind: ETHERNET gbps: 25 latency_us: 80 } }
nodes { name: "d" gpus: 2 gpu: "a100-80gb" nic { kind: ROCE gbps: 200 } }
fabrics { name: "ib" nodes: ["a", "b"] }
fabrics { name: "roce" nodes: "d" }
)";

Topology parse(const std::string& text) { return engine::parse_topology(text, "t.textproto", "."); }

// The error parsing `text` gives; fails the test when it parses.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const TopologyError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parsed:\n" << text;
  return "";
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

const std::string kNic = " nic { kind: ETHERNET gbps: 25 } }\n";

TEST(TopologyFile, ReadsNodesNicsAndFabrics) {
  const Topology t = parse(kGood);
  EXPECT_EQ(t.name, "lab");
  ASSERT_EQ(t.nodes.size(), 4u);
  EXPECT_EQ(t.gpus(), 12);
  EXPECT_EQ(t.fabrics, (std::vector<std::string>{"ib", "roce"}));
  EXPECT_EQ(t.nodes[0].gpu.name, "a100-80gb");
  EXPECT_EQ(t.nodes[1].fabric, 0);
  EXPECT_EQ(t.nodes[2].fabric, -1);
  EXPECT_EQ(t.nodes[3].fabric, 1);
  EXPECT_DOUBLE_EQ(t.nodes[0].nic_bytes_per_s, 25e9);  // 200 Gbit/s
  EXPECT_DOUBLE_EQ(t.nodes[0].nic_latency_s, 5e-6);    // the RDMA default
  EXPECT_DOUBLE_EQ(t.nodes[2].nic_latency_s, 80e-6);   // given
  EXPECT_TRUE(t.nodes[1].tcp_port);
  EXPECT_DOUBLE_EQ(t.nodes[1].tcp_bytes_per_s, 3.125e9);
  EXPECT_DOUBLE_EQ(t.nodes[0].tcp_bytes_per_s, 25e9);  // no port of its own: the NIC's
  EXPECT_EQ(t.describe(), "4 nodes, 12 GPUs (a100-80gb); fabrics ib: a, b; roce: d");
}

TEST(TopologyLinks, PickNvlinkRdmaOrTcpAtTheSlowerEnd) {
  const Topology t = parse(kGood);
  // Within a node: the A100's NVLink, 300 GB/s x 0.8.
  const engine::Link self = engine::link_between(t, 0, 0);
  EXPECT_EQ(self.kind, LinkKind::kNvlink);
  EXPECT_DOUBLE_EQ(self.bytes_per_s, 240e9);
  // a-b share fabric ib: RDMA at the slower NIC, 100 Gbit/s = 12.5 GB/s, x 0.9.
  const engine::Link ab = engine::link_between(t, 0, 1);
  EXPECT_EQ(ab.kind, LinkKind::kRdma);
  EXPECT_DOUBLE_EQ(ab.bytes_per_s, 11.25e9);
  EXPECT_DOUBLE_EQ(ab.latency_s, 5e-6);
  // a-c: c has no RDMA; TCP at c's 25 Gbit/s x 0.6, c's 80 us.
  const engine::Link ac = engine::link_between(t, 0, 2);
  EXPECT_EQ(ac.kind, LinkKind::kTcp);
  EXPECT_DOUBLE_EQ(ac.bytes_per_s, 1.875e9);
  EXPECT_DOUBLE_EQ(ac.latency_s, 80e-6);
  // a-d: both RDMA, different fabrics: TCP at the TCP rate of the slower, 50 us.
  const engine::Link ad = engine::link_between(t, 0, 3);
  EXPECT_EQ(ad.kind, LinkKind::kTcp);
  EXPECT_DOUBLE_EQ(ad.bytes_per_s, 15e9);
  EXPECT_DOUBLE_EQ(ad.latency_s, 50e-6);
  // b-d: b's TCP goes over its own 25 Gbit/s port.
  EXPECT_DOUBLE_EQ(engine::link_between(t, 1, 3).bytes_per_s, 1.875e9);
  EXPECT_EQ(ab.describe(), "rdma 11.2 GB/s");
}

TEST(TopologyFile, SyntaxAndUnknownFieldsNameTheLine) {
  const std::string syntax = error_of("nodes { name: \"a\"\n gpus: }\n");
  EXPECT_HAS(syntax, "t.textproto:2:");
  const std::string field =
      error_of("nodes { name: \"a\" gpus: 1 gpu: \"l4\"\n nic { gbs: 25 } }\n");
  EXPECT_HAS(field, "t.textproto:2:");
  EXPECT_HAS(field, "unknown field 'gbs' in Nic; did you mean 'gbps'?");
  const std::string kind = error_of("nodes { name: \"a\" nic { kind: ROCEE } }\n");
  EXPECT_HAS(kind, "unknown NIC kind 'ROCEE'; did you mean 'ROCE'?");
}

TEST(TopologyFile, EachNodeMistakeNamesTheNodeAndTheFix) {
  EXPECT_HAS(error_of(""), "t.textproto: the topology has no nodes; add nodes {");
  const std::string zero = error_of("nodes { name: \"a\"\n gpus: 0 gpu: \"l4\"" + kNic);
  EXPECT_HAS(zero, "t.textproto:2:");
  EXPECT_HAS(zero, "node 'a': gpus is 0");
  EXPECT_HAS(zero, "1 or more");
  EXPECT_HAS(error_of("nodes { name: \"a\" gpu: \"l4\"" + kNic), "gpus is 0 (missing)");
  const std::string preset = error_of("nodes { name: \"a\" gpus: 2\n gpu: \"a100\"" + kNic);
  EXPECT_HAS(preset, "t.textproto:2:");
  EXPECT_HAS(preset, "unknown GPU preset 'a100' (did you mean 'a100-80gb'?)");
  EXPECT_HAS(preset, "use one of a100-80gb, h100-80gb, a10g, l4");
  const std::string no_nic = error_of("nodes { name: \"a\" gpus: 2 gpu: \"l4\" }\n");
  EXPECT_HAS(no_nic, "node 'a': nic missing; give nic { kind:");
  const std::string no_gbps =
      error_of("nodes { name: \"a\" gpus: 2 gpu: \"l4\" nic { kind: ETHERNET } }\n");
  EXPECT_HAS(no_gbps, "node 'a': nic gbps missing");
  EXPECT_HAS(no_gbps, "Gbit/s");
  EXPECT_HAS(error_of("nodes { name: \"a\" gpus: 2 gpu: \"l4\" nic { gbps: 25 } }\n"),
             "node 'a': nic kind missing");
  EXPECT_HAS(error_of("nodes { name: \"a\" gpus: 2 gpu: \"l4\" nic { kind: ETHERNET gbps: 25 "
                      "tcp_gbps: 10 } }\n"),
             "remove tcp_gbps");
  const std::string twice = error_of("nodes { name: \"a\" gpus: 1 gpu: \"l4\"" + kNic +
                                     "nodes { name: \"a\" gpus: 1 gpu: \"l4\"" + kNic);
  EXPECT_HAS(twice, "t.textproto:2:");
  EXPECT_HAS(twice, "node 'a' is given twice (first at t.textproto:1:1)");
  EXPECT_HAS(error_of("nodes { gpus: 1 gpu: \"l4\"" + kNic), "node 0 has no name");
}

TEST(TopologyFile, EachFabricMistakeNamesTheFabricAndTheFix) {
  const std::string nodes =
      R"(nodes { name: "ib-0" gpus: 1 gpu: "l4" nic { kind: INFINIBAND gbps: 200 } }
nodes { name: "ib-1" gpus: 1 gpu: "l4" nic { kind: INFINIBAND gbps: 200 } }
nodes { name: "roce-0" gpus: 1 gpu: "l4" nic { kind: ROCE gbps: 100 } }
nodes { name: "eth-0" gpus: 1 gpu: "l4" nic { kind: ETHERNET gbps: 25 } }
)";
  const std::string two = error_of(nodes + "fabrics { name: \"x\" nodes: \"ib-0\" }\n" +
                                   "fabrics { name: \"y\"\n nodes: [\"ib-1\", \"ib-0\"] }\n");
  EXPECT_HAS(two, "t.textproto:7:");
  EXPECT_HAS(two, "node 'ib-0' is in fabric 'x' and fabric 'y'");
  EXPECT_HAS(two, "remove it from one of them");
  const std::string unknown = error_of(nodes + "fabrics { name: \"x\" nodes: \"ib-2\" }\n");
  EXPECT_HAS(unknown, "fabric 'x': no node is named 'ib-2' (did you mean 'ib-0'?)");
  EXPECT_HAS(error_of(nodes + "fabrics { name: \"x\" nodes: [\"ib-0\", \"ib-0\"] }\n"),
             "names node 'ib-0' twice");
  const std::string eth =
      error_of(nodes + "fabrics { name: \"x\" nodes: [\"ib-0\", \"eth-0\"] }\n");
  EXPECT_HAS(eth, "node 'eth-0' has an ETHERNET NIC, which has no RDMA");
  const std::string mixed =
      error_of(nodes + "fabrics { name: \"x\" nodes: [\"ib-0\", \"roce-0\"] }\n");
  EXPECT_HAS(mixed, "fabric 'x' mixes INFINIBAND (node 'ib-0') and ROCE (node 'roce-0')");
  EXPECT_HAS(mixed, "split it in two");
  EXPECT_HAS(error_of(nodes + "fabrics { name: \"x\" }\n"), "fabric 'x' names no nodes");
  EXPECT_HAS(error_of(nodes + "fabrics { name: \"x\" nodes: \"ib-0\" }\n" +
                      "fabrics { name: \"x\" nodes: \"ib-1\" }\n"),
             "fabric 'x' is given twice");
}

TEST(TopologyFile, UnreadableFileNamesThePath) {
  try {
    engine::load_topology("/nonexistent/topology.textproto");
    FAIL() << "read a file that is not there";
  } catch (const TopologyError& e) {
    EXPECT_HAS(e.what(), "/nonexistent/topology.textproto: cannot read the topology file");
  }
}

// The shipped topologies are the same nodes and GPUs on three networks.
TEST(TopologyFile, ShippedTopologiesShareTheirNodes) {
  const std::filesystem::path dir =
      std::filesystem::path(BRICKS_SOURCE_DIR) / "manifests/topologies";
  const Topology mixed = engine::load_topology(dir / "mixed-nic.textproto");
  for (const char* other : {"all-rdma.textproto", "all-ethernet.textproto"}) {
    const Topology t = engine::load_topology(dir / other);
    ASSERT_EQ(t.nodes.size(), mixed.nodes.size()) << other;
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      EXPECT_EQ(t.nodes[i].name, mixed.nodes[i].name) << other;
      EXPECT_EQ(t.nodes[i].gpus, mixed.nodes[i].gpus) << other;
      EXPECT_EQ(t.nodes[i].gpu.name, mixed.nodes[i].gpu.name) << other;
    }
  }
  EXPECT_EQ(mixed.fabrics.size(), 2u);
}

}  // namespace
}  // namespace bricks::testing
