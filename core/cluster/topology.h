// A cluster's topology (schema: core/proto/topology.proto): nodes, each with GPUs of one
// preset and one NIC, and the RDMA fabrics that join some of them; and the link any two
// GPUs of it talk over.
//
// Links (bandwidths are what a transfer sustains: the nominal rate times an efficiency):
//  - within a node: the GPU preset's link (NVLink, or PCIe where it has none) x nvlink;
//  - between two nodes of one fabric (RDMA NICs of one kind, the parser checks): RDMA at
//    the smaller NIC's line rate x rdma, the larger of their latencies;
//  - between any other two nodes: TCP at the smaller of their TCP rates (an RDMA node's
//    tcp_gbps port, else its NIC's line rate) x tcp, with the TCP latency (the larger
//    ETHERNET latency_us given, else tcp_latency_s).
// The efficiencies are assumptions, not measurements (docs/experiments.md, section 8):
// NCCL's bus bandwidth over NVLink (the cost model's link_efficiency), RDMA verbs close to
// line rate, TCP sockets losing more to copies and the kernel stack.
//
// Thread safety: plain data and functions without state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/gpu_presets.h"

namespace bricks::engine {

// A topology file that cannot be used: what() reads "FILE:LINE:COL: what; fix".
class TopologyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class NicKind { kInfiniband, kRoce, kEthernet };
const char* nic_kind_name(NicKind kind);  // "INFINIBAND", "ROCE", "ETHERNET"
inline bool is_rdma(NicKind kind) { return kind != NicKind::kEthernet; }

struct TopologyNode {
  std::string name;
  int32_t gpus = 0;
  sim::GpuSpec gpu;
  NicKind nic = NicKind::kEthernet;
  double nic_bytes_per_s = 0;  // line rate of all its ports, bytes/s (gbps * 1e9 / 8)
  double nic_latency_s = 0;    // over its own protocol: RDMA, or TCP for ETHERNET
  double tcp_bytes_per_s = 0;  // its TCP traffic's line rate (nic_bytes_per_s unless tcp_port)
  bool tcp_port = false;       // a port of its own carries its TCP (Nic.tcp_gbps)
  int32_t fabric = -1;         // index into Topology::fabrics; -1 when in none
};

struct Topology {
  std::string name;  // the file's name field, else the file's stem
  std::string file;  // where it was read from, for messages
  std::vector<TopologyNode> nodes;
  std::vector<std::string> fabrics;  // names, in file order

  int32_t gpus() const;
  // "3 nodes, 12 GPUs (a100-80gb); fabrics ib: ib-0, ib-1".
  std::string describe() const;
};

enum class LinkKind { kNvlink, kRdma, kTcp };  // fastest first
const char* link_kind_name(LinkKind kind);     // "nvlink", "rdma", "tcp"

struct Link {
  LinkKind kind = LinkKind::kTcp;
  double bytes_per_s = 0;  // sustained, one direction
  double latency_s = 0;    // per transfer
  // "rdma 22.5 GB/s"
  std::string describe() const;
};

struct LinkEfficiency {
  double nvlink = 0.8;  // the cost model's link_efficiency
  double rdma = 0.9;
  double tcp = 0.6;
  double nvlink_latency_s = 5e-6;  // the disagg link preset "nvlink"
  double tcp_latency_s = 50e-6;    // the disagg link preset "ethernet"
};

// The link from node a to node b (a == b: within the node), as the top of this file says.
Link link_between(const Topology& t, size_t a, size_t b, const LinkEfficiency& e = {});

// The topology a text-format Topology describes; `file` names it in errors and `base` is
// where relative GPU preset paths start. Throws TopologyError on the first problem: a
// syntax error or unknown field (with the fields it could be), no nodes, a node without a
// unique name, GPUs, a known GPU preset (did you mean), or a NIC kind and bandwidth; a
// fabric naming an unknown node (did you mean), a node twice, a node already in another
// fabric, an ETHERNET node, or RDMA NICs of two kinds.
Topology parse_topology(const std::string& text, const std::string& file,
                        const std::filesystem::path& base);

// parse_topology of a file; throws TopologyError when it cannot be read.
Topology load_topology(const std::filesystem::path& file);

}  // namespace bricks::engine
