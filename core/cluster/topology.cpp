#include "cluster/topology.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "host/did_you_mean.h"
#include "sim/preset_names.h"
#include "sim/sim_error.h"
#include "topology.pb.h"

namespace bricks::engine {

namespace {

namespace pb = google::protobuf;
using InfoTree = pb::TextFormat::ParseInfoTree;

constexpr double kDefaultRdmaLatencyS = 5e-6;
constexpr double kDefaultEthernetLatencyS = 50e-6;

// Keeps the parser's first error, 1-based.
class FirstTopologyError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber col, const std::string& message) override {
    if (!message_.empty()) return;
    line_ = line + 1;
    col_ = col + 1;
    message_ = message;
    if (!message_.empty() && message_.back() == '.') message_.pop_back();
  }
  void AddWarning(int line, pb::io::ColumnNumber col, const std::string& message) override {
    AddError(line, col, message);
  }
  int line_ = 0, col_ = 0;
  std::string message_;
};

std::string quoted_after(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return text.substr(start, text.find('"', start) - start);
}

// The message the parser gave, with its fix.
std::string explain_syntax_error(const std::string& message) {
  const std::string field = quoted_after(message, "has no field named \"");
  if (!field.empty()) {
    const std::string type_name = quoted_after(message, "Message type \"");
    const pb::Descriptor* type =
        pb::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
    std::vector<std::string> names;
    for (int f = 0; type != nullptr && f < type->field_count(); ++f) {
      names.push_back(type->field(f)->name());
    }
    return "unknown field '" + field + "' in " + (type ? type->name() : type_name) + "; " +
           host::suggest(field, names) + " (core/proto/topology.proto)";
  }
  const std::string value = quoted_after(message, "Unknown enumeration value of \"");
  if (!value.empty()) {
    return "unknown NIC kind '" + value + "'; " +
           host::suggest(value, {"INFINIBAND", "ROCE", "ETHERNET"});
  }
  return message + "; write fields as `name: value`, nested ones as `name { ... }`, " +
         "strings in double quotes, # for comments";
}

// Where things are in the file, for errors: "FILE:LINE:COL: ".
class TopologyPlaces {
 public:
  TopologyPlaces(std::string file, const InfoTree& root) : file_(std::move(file)), root_(root) {}

  // The place of `field` of the message `tree` describes (index for repeated fields), or
  // of `fallback` when it is not written. A list (`nodes: ["a", "b"]`) has one place, its
  // first entry's: an entry without its own takes the nearest before it.
  std::string at(const InfoTree* tree, const pb::Descriptor* type, const char* field, int index,
                 const std::string& fallback) const {
    const pb::FieldDescriptor* f = type->FindFieldByName(field);
    if (tree == nullptr || f == nullptr) return fallback;
    for (int i = index; i >= (index < 0 ? index : 0); --i) {
      const pb::TextFormat::ParseLocation loc = tree->GetLocation(f, i);
      if (loc.line >= 0) {
        return file_ + ":" + std::to_string(loc.line + 1) + ":" + std::to_string(loc.column + 1);
      }
    }
    return fallback;
  }
  // The place of the i-th entry of a top-level repeated field ("nodes", "fabrics").
  std::string entry(const char* field, int i) const {
    return at(&root_, topology::Topology::descriptor(), field, i, file_);
  }
  const InfoTree* nested(const char* field, int i) const {
    return root_.GetTreeForNested(topology::Topology::descriptor()->FindFieldByName(field), i);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  const InfoTree& root_;
};

[[noreturn]] void topology_fail(const std::string& place, const std::string& what,
                                const std::string& fix) {
  throw TopologyError(place + ": " + what + "; " + fix);
}

std::string gbit(double bytes_per_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB/s", bytes_per_s / 1e9);
  return buf;
}

NicKind nic_kind_of(topology::Nic::Kind k) {
  switch (k) {
    case topology::Nic::INFINIBAND:
      return NicKind::kInfiniband;
    case topology::Nic::ROCE:
      return NicKind::kRoce;
    default:
      return NicKind::kEthernet;
  }
}

std::string shipped_gpu_names() {
  std::vector<std::string> names(sim::kGpuPresetNames.begin(), sim::kGpuPresetNames.end());
  return host::join(names);
}

TopologyNode read_node(const topology::Node& n, int i, const TopologyPlaces& places,
                       const std::filesystem::path& base) {
  const pb::Descriptor* type = topology::Node::descriptor();
  const InfoTree* tree = places.nested("nodes", i);
  const std::string node_at = places.entry("nodes", i);
  const std::string label = "node '" + n.name() + "'";
  auto field_at = [&](const char* f) { return places.at(tree, type, f, -1, node_at); };

  TopologyNode out;
  out.name = n.name();
  if (n.gpus() < 1) {
    topology_fail(field_at("gpus"),
                  label + ": gpus is " + std::to_string(n.gpus()) +
                      (field_at("gpus") == node_at ? " (missing)" : ""),
                  "give the number of GPUs in the node, 1 or more");
  }
  out.gpus = n.gpus();
  if (n.gpu().empty()) {
    topology_fail(node_at, label + ": gpu missing",
                  "give a sim GPU preset (" + shipped_gpu_names() + ") or a GpuPreset file");
  }
  try {
    out.gpu = sim::load_gpu(n.gpu(), base);
  } catch (const sim::SimError& e) {
    const bool is_path = n.gpu().find('/') != std::string::npos || n.gpu().ends_with(".textproto");
    if (is_path) topology_fail(field_at("gpu"), label + ": gpu '" + n.gpu() + "'", e.what());
    // A preset the name begins ("a100" for "a100-80gb") is the likelier meaning than the
    // nearest by edits ("a10g").
    std::vector<std::string> names(sim::kGpuPresetNames.begin(), sim::kGpuPresetNames.end());
    std::string hint = host::did_you_mean_suffix(n.gpu(), names);
    for (const std::string& name : names) {
      if (name.starts_with(n.gpu())) hint = " (did you mean '" + name + "'?)";
    }
    topology_fail(field_at("gpu"), label + ": unknown GPU preset '" + n.gpu() + "'" + hint,
                  "use one of " + shipped_gpu_names() +
                      ", or the path of a GpuPreset file (relative to the topology file)");
  }
  if (!n.has_nic()) {
    topology_fail(node_at, label + ": nic missing",
                  "give nic { kind: INFINIBAND, ROCE or ETHERNET  gbps: <line rate> }");
  }
  const topology::Nic& nic = n.nic();
  const InfoTree* nic_tree =
      tree != nullptr ? tree->GetTreeForNested(type->FindFieldByName("nic"), -1) : nullptr;
  const std::string nic_at = field_at("nic");
  auto nic_field_at = [&](const char* f) {
    return places.at(nic_tree, topology::Nic::descriptor(), f, -1, nic_at);
  };
  if (nic.kind() == topology::Nic::KIND_UNSPECIFIED) {
    topology_fail(nic_at, label + ": nic kind missing", "give kind: INFINIBAND, ROCE or ETHERNET");
  }
  if (!(nic.gbps() > 0)) {
    topology_fail(nic_field_at("gbps"),
                  label + ": nic gbps " +
                      (nic_field_at("gbps") == nic_at ? std::string("missing")
                                                      : "is " + std::to_string(nic.gbps())),
                  "give the line rate of the node's NIC ports together in Gbit/s, above 0 "
                  "(e.g. 200 for one HDR InfiniBand port)");
  }
  if (nic.has_latency_us() && !(nic.latency_us() >= 0)) {
    topology_fail(nic_field_at("latency_us"), label + ": nic latency_us is negative",
                  "give 0 or more, or leave it out for the kind's default");
  }
  out.nic = nic_kind_of(nic.kind());
  if (nic.has_tcp_gbps() && !is_rdma(out.nic)) {
    topology_fail(nic_field_at("tcp_gbps"), label + ": an ETHERNET NIC with tcp_gbps",
                  "remove tcp_gbps: an ETHERNET NIC carries TCP at gbps");
  }
  if (nic.has_tcp_gbps() && !(nic.tcp_gbps() > 0)) {
    topology_fail(nic_field_at("tcp_gbps"), label + ": nic tcp_gbps is not above 0",
                  "give the Ethernet port's line rate in Gbit/s, or leave it out");
  }
  out.nic_bytes_per_s = nic.gbps() * 1e9 / 8;
  out.tcp_port = nic.has_tcp_gbps();
  out.tcp_bytes_per_s = out.tcp_port ? nic.tcp_gbps() * 1e9 / 8 : out.nic_bytes_per_s;
  out.nic_latency_s = nic.has_latency_us()
                          ? nic.latency_us() * 1e-6
                          : (is_rdma(out.nic) ? kDefaultRdmaLatencyS : kDefaultEthernetLatencyS);
  return out;
}

void read_fabrics(const topology::Topology& p, const TopologyPlaces& places, Topology& t) {
  std::map<std::string, size_t> node_index;
  std::vector<std::string> node_names;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    node_index[t.nodes[i].name] = i;
    node_names.push_back(t.nodes[i].name);
  }
  const pb::Descriptor* type = topology::Fabric::descriptor();
  for (int j = 0; j < p.fabrics_size(); ++j) {
    const topology::Fabric& f = p.fabrics(j);
    const std::string fabric_at = places.entry("fabrics", j);
    const InfoTree* tree = places.nested("fabrics", j);
    const std::string label = "fabric '" + f.name() + "'";
    if (f.name().empty()) {
      topology_fail(fabric_at, "fabric " + std::to_string(j) + " has no name",
                    "give each fabric a unique name");
    }
    if (std::find(t.fabrics.begin(), t.fabrics.end(), f.name()) != t.fabrics.end()) {
      topology_fail(fabric_at, label + " is given twice", "give each fabric a unique name");
    }
    if (f.nodes().empty()) {
      topology_fail(fabric_at, label + " names no nodes", "list its nodes, or remove it");
    }
    const auto fabric = static_cast<int32_t>(t.fabrics.size());
    t.fabrics.push_back(f.name());
    const TopologyNode* first = nullptr;
    for (int k = 0; k < f.nodes_size(); ++k) {
      const std::string& name = f.nodes(k);
      const std::string at = places.at(tree, type, "nodes", k, fabric_at);
      auto it = node_index.find(name);
      if (it == node_index.end()) {
        topology_fail(at,
                      label + ": no node is named '" + name + "'" +
                          host::did_you_mean_suffix(name, node_names),
                      "name nodes of the topology's nodes list");
      }
      TopologyNode& n = t.nodes[it->second];
      if (n.fabric == fabric) {
        topology_fail(at, label + " names node '" + name + "' twice", "name each node once");
      }
      if (n.fabric >= 0) {
        topology_fail(at,
                      "node '" + name + "' is in fabric '" + t.fabrics[n.fabric] + "' and " + label,
                      "a node's RDMA NIC reaches one fabric: remove it from one of them");
      }
      if (!is_rdma(n.nic)) {
        topology_fail(at, label + ": node '" + name + "' has an ETHERNET NIC, which has no RDMA",
                      "remove it from the fabric (it reaches other nodes over TCP) or give it "
                      "an INFINIBAND or ROCE NIC");
      }
      if (first != nullptr && first->nic != n.nic) {
        topology_fail(at,
                      label + " mixes " + nic_kind_name(first->nic) + " (node '" + first->name +
                          "') and " + nic_kind_name(n.nic) + " (node '" + name + "')",
                      "an RDMA fabric joins NICs of one kind: split it in two");
      }
      if (first == nullptr) first = &n;
      n.fabric = fabric;
    }
  }
}

}  // namespace

const char* nic_kind_name(NicKind kind) {
  switch (kind) {
    case NicKind::kInfiniband:
      return "INFINIBAND";
    case NicKind::kRoce:
      return "ROCE";
    case NicKind::kEthernet:
      return "ETHERNET";
  }
  return "ETHERNET";
}

const char* link_kind_name(LinkKind kind) {
  switch (kind) {
    case LinkKind::kNvlink:
      return "nvlink";
    case LinkKind::kRdma:
      return "rdma";
    case LinkKind::kTcp:
      return "tcp";
  }
  return "tcp";
}

std::string Link::describe() const {
  return std::string(link_kind_name(kind)) + " " + gbit(bytes_per_s);
}

int32_t Topology::gpus() const {
  int32_t n = 0;
  for (const TopologyNode& node : nodes) n += node.gpus;
  return n;
}

std::string Topology::describe() const {
  std::vector<std::string> gpu_types;
  for (const TopologyNode& n : nodes) {
    if (std::find(gpu_types.begin(), gpu_types.end(), n.gpu.name) == gpu_types.end()) {
      gpu_types.push_back(n.gpu.name);
    }
  }
  std::string s = std::to_string(nodes.size()) + " nodes, " + std::to_string(gpus()) + " GPUs (" +
                  host::join(gpu_types) + ")";
  for (size_t f = 0; f < fabrics.size(); ++f) {
    std::vector<std::string> members;
    for (const TopologyNode& n : nodes) {
      if (n.fabric == static_cast<int32_t>(f)) members.push_back(n.name);
    }
    s += (f == 0 ? "; fabrics " : "; ") + fabrics[f] + ": " + host::join(members);
  }
  return s;
}

Link link_between(const Topology& t, size_t a, size_t b, const LinkEfficiency& e) {
  const TopologyNode& x = t.nodes.at(a);
  const TopologyNode& y = t.nodes.at(b);
  if (a == b) return {LinkKind::kNvlink, x.gpu.link_bytes_per_s * e.nvlink, e.nvlink_latency_s};
  if (x.fabric >= 0 && x.fabric == y.fabric) {
    return {LinkKind::kRdma, std::min(x.nic_bytes_per_s, y.nic_bytes_per_s) * e.rdma,
            std::max(x.nic_latency_s, y.nic_latency_s)};
  }
  double latency = e.tcp_latency_s;
  for (const TopologyNode* n : {&x, &y}) {
    if (!is_rdma(n->nic)) latency = std::max(latency, n->nic_latency_s);
  }
  return {LinkKind::kTcp, std::min(x.tcp_bytes_per_s, y.tcp_bytes_per_s) * e.tcp, latency};
}

Topology parse_topology(const std::string& text, const std::string& file,
                        const std::filesystem::path& base) {
  topology::Topology p;
  FirstTopologyError errors;
  InfoTree root;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&root);
  if (!parser.ParseFromString(text, &p)) {
    throw TopologyError(file + ":" + std::to_string(errors.line_) + ":" +
                        std::to_string(errors.col_) + ": " + explain_syntax_error(errors.message_));
  }
  const TopologyPlaces places(file, root);
  Topology t;
  t.file = file;
  t.name = p.name().empty() ? std::filesystem::path(file).stem().string() : p.name();
  if (p.nodes().empty()) {
    topology_fail(file, "the topology has no nodes",
                  "add nodes { name: \"n0\" gpus: 8 gpu: \"a100-80gb\" nic { kind: INFINIBAND "
                  "gbps: 200 } }");
  }
  std::map<std::string, int> seen;
  for (int i = 0; i < p.nodes_size(); ++i) {
    const topology::Node& n = p.nodes(i);
    if (n.name().empty()) {
      topology_fail(places.entry("nodes", i), "node " + std::to_string(i) + " has no name",
                    "give each node a unique name");
    }
    const auto [earlier, fresh] = seen.emplace(n.name(), i);
    if (!fresh) {
      topology_fail(places.entry("nodes", i),
                    "node '" + n.name() + "' is given twice (first at " +
                        places.entry("nodes", earlier->second) + ")",
                    "give each node a unique name");
    }
    t.nodes.push_back(read_node(n, i, places, base));
  }
  read_fabrics(p, places, t);
  return t;
}

Topology load_topology(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw TopologyError(file.string() +
                        ": cannot read the topology file; check the path and its permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_topology(text.str(), file.string(), file.parent_path());
}

}  // namespace bricks::engine
