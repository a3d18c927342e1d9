// KV transfers between the instances of a disaggregated cluster laid out on a topology
// (topology_layout.h). A request's KV moves from its prefill instance to its decode
// instance stage pair by stage pair: every prefill stage sends the layers it shares with a
// decode stage to that stage's node, all pairs at once, and the KV is ready when the last
// pair is done.
//
// Contention: each port of a node (its NIC, and the separate TCP port of an RDMA node that
// has one) is a first-come-first-served queue in each direction. A transfer between two
// nodes holds the sender's egress queue for bytes / (the port's line rate x the path's
// efficiency) and the receiver's ingress queue likewise, each from when that queue is free
// and not before the transfer starts; it is done when both queues have served it, plus
// the link's latency. So the slower port sets the pace and a busy port delays what queues
// behind it. Within a node the GPUs' own link carries the KV, each GPU
// of the smaller tensor-parallel group sending its share, without queueing (it is an order
// of magnitude faster than any NIC). Activations between pipeline stages are not queued
// here: the cost model charges them to the stages. A transfer starts once the first token
// is out (the disagg brick's kv_transfer "after_prefill").
//
// Thread safety: one thread drives it, as the cluster does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cluster/topology.h"
#include "cluster/topology_layout.h"

namespace bricks::engine {

class KvNetwork {
 public:
  // `kv_bytes_per_token_layer`: K and V of one token in one layer (all its KV heads).
  KvNetwork(const Topology& t, const ClusterLayout& layout, double kv_bytes_per_token_layer,
            const LinkEfficiency& efficiency = {});

  size_t num_instances() const { return instances_.size(); }
  // The decode instances prefill instance `prefill` may hand its requests to (indices of
  // the layout, which are the cluster's).
  const std::vector<size_t>& targets(size_t prefill) const;
  // Queues the KV of `tokens` tokens from prefill instance `from` to decode instance `to`,
  // from `start_s` on, and returns when all of it has arrived.
  double transfer(size_t from, size_t to, int64_t tokens, double start_s);

 private:
  std::vector<InstanceLayout> instances_;
  std::vector<std::vector<Link>> links_;  // node x node
  // Port p of node n is queue 2n + p: p = 0 its NIC, 1 its separate TCP port.
  struct Port {
    double bytes_per_s = 0;  // line rate
    double egress_free_s = 0, ingress_free_s = 0;
  };
  Port& port(int32_t node, LinkKind kind);
  std::vector<Port> ports_;
  std::vector<bool> tcp_port_;  // per node: a separate port carries its TCP
  double kv_bytes_per_token_layer_;
  LinkEfficiency efficiency_;
};

}  // namespace bricks::engine
