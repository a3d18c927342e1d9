#include "cluster/kv_network.h"

#include <algorithm>
#include <stdexcept>

namespace bricks::engine {

KvNetwork::KvNetwork(const Topology& t, const ClusterLayout& layout,
                     double kv_bytes_per_token_layer, const LinkEfficiency& efficiency)
    : instances_(layout.instances),
      kv_bytes_per_token_layer_(kv_bytes_per_token_layer),
      efficiency_(efficiency) {
  for (size_t a = 0; a < t.nodes.size(); ++a) {
    ports_.push_back(Port{t.nodes[a].nic_bytes_per_s});
    ports_.push_back(Port{t.nodes[a].tcp_bytes_per_s});
    tcp_port_.push_back(t.nodes[a].tcp_port);
    links_.emplace_back();
    for (size_t b = 0; b < t.nodes.size(); ++b) {
      links_.back().push_back(link_between(t, a, b, efficiency));
    }
  }
  for (const InstanceLayout& il : instances_) {
    for (const StageSlot& s : il.stages) {
      if (s.node < 0 || static_cast<size_t>(s.node) >= t.nodes.size()) {
        throw std::invalid_argument("a stage of the layout names node " + std::to_string(s.node) +
                                    ", which the topology does not have");
      }
    }
    for (size_t j : il.kv_targets) {
      if (j >= instances_.size() || instances_[j].role != InstanceRole::kDecode) {
        throw std::invalid_argument("a prefill instance of the layout sends KV to instance " +
                                    std::to_string(j) + ", which is not a decode instance");
      }
    }
  }
}

KvNetwork::Port& KvNetwork::port(int32_t node, LinkKind kind) {
  const bool own_tcp_port = kind == LinkKind::kTcp && tcp_port_[node];
  return ports_[2 * static_cast<size_t>(node) + (own_tcp_port ? 1 : 0)];
}

const std::vector<size_t>& KvNetwork::targets(size_t prefill) const {
  return instances_.at(prefill).kv_targets;
}

double KvNetwork::transfer(size_t from, size_t to, int64_t tokens, double start_s) {
  const InstanceLayout& p = instances_.at(from);
  const InstanceLayout& d = instances_.at(to);
  double done = start_s;
  for (const StageSlot& ps : p.stages) {
    for (const StageSlot& ds : d.stages) {
      const int32_t layers = layers_shared(ps, ds);
      if (layers == 0) continue;
      const double bytes = kv_bytes_per_token_layer_ * layers * static_cast<double>(tokens);
      const Link& link = links_[ps.node][ds.node];
      if (ps.node == ds.node) {
        done = std::max(
            done, start_s + link.latency_s + bytes / (link.bytes_per_s * std::min(p.tp, d.tp)));
        continue;
      }
      const double eff = link.kind == LinkKind::kRdma ? efficiency_.rdma : efficiency_.tcp;
      Port& from_port = port(ps.node, link.kind);
      Port& to_port = port(ds.node, link.kind);
      double& out = from_port.egress_free_s;
      double& in = to_port.ingress_free_s;
      out = std::max(out, start_s) + bytes / (from_port.bytes_per_s * eff);
      in = std::max(in, start_s) + bytes / (to_port.bytes_per_s * eff);
      done = std::max(done, std::max(out, in) + link.latency_s);
    }
  }
  return done;
}

}  // namespace bricks::engine
