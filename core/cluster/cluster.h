// A cluster of engines ("instances"), each with its own device and simulated clock, run as
// one discrete-event simulation. Two shapes:
//
//  - disaggregated (DistServe): prefill instances compute prompts and emit each request's
//    first token; the request is then handed off: released on the prefill instance (it was
//    submitted there with max_new_tokens = 1) and submitted to a decode instance with
//    arrival = first-token time + the KV transfer delay over the link, its prompt extended
//    by the first token and RequestSpec::kv_ready_tokens = the prompt's length, so the
//    decode instance allocates that KV but computes none of it.
//  - colocated: identical instances that each serve requests from prompt to last token.
//
// The simulation always advances the instance whose next event is earliest: its clock when
// it has live requests, else its next arrival. A new request is routed at its arrival time
// to the least-loaded instance of its phase (prefill: fewest prompt tokens outstanding;
// decode and colocated: fewest requests outstanding; ties to the lowest index). Routing at
// time t happens before any step that starts at t. Given the same requests, a run is
// deterministic.
//
// A colocated cluster may also split its instances into pools (ClusterInstance::pool,
// e.g. one pool per GPU type of a heterogeneous cluster) and take a router that names each
// arriving request's pool; the request then goes to the least-loaded instance of that pool.
//
// A disaggregated cluster laid out on a topology takes a KvNetwork (kv_network.h) instead:
// each prefill instance then hands off only to its layout's decode targets (the least
// loaded of them), and the KV's delay comes from the network's queues and links. A new
// request's ties among the least-loaded prefill instances then go to the one whose
// least-loaded decode target has the fewest requests, so that idle prefill instances do
// not all send to the decode targets of the first.
//
// Every request gets one combined record (ClusterRequest::merged): TTFT from the prefill
// instance, later tokens from the decode instance, so Report computes TTFT, TPOT and
// goodput over the whole cluster.
//
// Thread safety: one thread drives a Cluster.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "report/report.h"

namespace bricks::engine {

class KvNetwork;

enum class InstanceRole { kColocated, kPrefill, kDecode };
const char* instance_role_name(InstanceRole role);

// The link a request's KV crosses from its prefill instance to its decode instance.
struct KvLink {
  double bytes_per_s = 300e9;  // one direction
  double latency_s = 5e-6;     // per transfer
  // Streamed layer by layer while the prefill runs: only what the prefill did not cover,
  // and at least the last layer's share, is left once the first token is out.
  bool layerwise = false;
  int32_t num_layers = 1;

  // Seconds from the first token to the KV being usable on the decode instance, for `bytes`
  // of KV whose prefill took `prefill_s`.
  double delay_s(double bytes, double prefill_s) const;
};

struct ClusterInstance {
  InstanceRole role = InstanceRole::kColocated;
  int32_t gpus = 1;                // GPUs it occupies (its tensor-parallel degree)
  std::unique_ptr<Engine> engine;  // its device's clock must be a SimClock
  int32_t pool = 0;                // the pool a router (Cluster::set_router) sends to; >= 0
};

// Names the pool of request `index` (its index in Cluster::requests()) at its arrival. Must
// return the pool of at least one instance; deterministic routers keep runs deterministic.
using ClusterRouter = std::function<int32_t(size_t index, const RequestSpec& spec)>;

// One request of the cluster, from submission to its end on whichever instance.
struct ClusterRequest {
  // The combined record: spec as submitted, id = index + 1, tokens and token times from
  // both instances, first_scheduled_s from the first instance, the end from the last.
  Request merged;
  int32_t first_instance = -1;   // prefill (or colocated) instance
  int32_t decode_instance = -1;  // -1 when it never reached one
  double handoff_s = -1;         // first token on the prefill instance
  double kv_ready_s = -1;        // its KV on the decode instance (the decode arrival)
  int64_t kv_bytes = 0;          // moved over the link
  uint64_t first_engine_id = 0;  // its id on the first instance's engine
  uint64_t decode_engine_id = 0;
};

struct ClusterStats {
  int64_t steps = 0, batched_tokens = 0, preemptions = 0, swapped_bytes = 0;
  int64_t handoffs = 0, transferred_bytes = 0;
  double transfer_s_sum = 0;  // sum of the KV transfer delays
};

class Cluster {
 public:
  // Throws std::invalid_argument when `instances` is empty, mixes colocated instances with
  // prefill/decode ones, has prefill without decode instances (or the reverse), holds a
  // null engine or one whose clock is not simulated. `kv_bytes_per_token` is what the link
  // moves per prompt token (K and V of all layers).
  Cluster(std::vector<ClusterInstance> instances, KvLink link, double kv_bytes_per_token);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Accepts a request; it is routed when it arrives. Returns its index in requests().
  size_t submit(RequestSpec spec);
  // Routes every later arrival to the pool `router` names (null: any instance, the
  // default). Throws std::invalid_argument on a disaggregated cluster; step() throws
  // std::out_of_range when the router names a pool without an instance.
  void set_router(ClusterRouter router);
  // Moves KV over `network` from now on, instead of the link given at construction.
  // Throws std::invalid_argument on a colocated cluster or when the network's layout has a
  // different number of instances.
  void set_kv_network(std::shared_ptr<KvNetwork> network);
  // Handles the earliest event (an arrival or one instance's step). False once every
  // submitted request has ended.
  bool step();
  // Steps until every request ended, or until `stop` (asked before each event) says true;
  // `progress` is told now and then (every 64 events).
  void run_to_completion(const std::function<void(const Cluster&)>& progress = {},
                         const std::function<bool()>& stop = {});

  bool disaggregated() const { return disaggregated_; }
  const std::vector<ClusterInstance>& instances() const { return instances_; }
  const std::vector<ClusterRequest>& requests() const { return requests_; }
  size_t num_ended() const { return num_ended_; }
  // GPUs over all instances.
  int32_t gpus() const;
  // The latest clock of any instance.
  double now() const;
  ClusterStats stats() const;

  // Every request's combined record, in the order they ended (then any still live).
  std::vector<RequestRecord> records() const;
  // Latency, throughput and SLO metrics over the cluster, plus the summed engine counters.
  Report report(const SloSpec& slo = {}) const;

 private:
  struct Owned {
    size_t index = 0;  // in requests_
    int64_t load = 0;  // its share of the instance's load
  };
  struct Slot {                                 // what the cluster tracks of one instance
    size_t ended_seen = 0;                      // prefix of engine->ended() handled
    std::unordered_map<uint64_t, Owned> owner;  // engine request id -> its request
    std::multiset<double> arrivals;             // arrivals of its requests not yet ended
    int64_t load = 0;                           // what routing compares
  };

  // Earliest next event of instance i; +inf when it has nothing to do.
  double next_event(size_t i) const;
  // Of the instances in `role` (and in `pool`, when >= 0); instances_.size() when none.
  size_t least_loaded(InstanceRole role, int32_t pool = -1) const;
  // Of `candidates` (ties to the earliest); instances_.size() when there are none.
  size_t least_loaded_of(const std::vector<size_t>& candidates) const;
  // With a KV network: the least-loaded prefill instance, ties as the top of this file says.
  size_t least_loaded_prefill() const;
  void place(size_t index, size_t instance, RequestSpec spec, int64_t load);
  // Handles requests instance i ended since the last look.
  void collect(size_t i);
  void on_first_ended(size_t i, const Request& r, size_t index);
  void on_decode_ended(size_t i, const Request& r, size_t index);
  void end(size_t index);

  std::vector<ClusterInstance> instances_;
  std::vector<Slot> slots_;
  KvLink link_;
  double kv_bytes_per_token_;
  bool disaggregated_ = false;
  std::vector<ClusterRequest> requests_;
  std::multimap<double, size_t> unrouted_;  // arrival -> index, not yet routed
  std::vector<size_t> ended_order_;
  size_t num_ended_ = 0;
  ClusterStats extra_;  // handoffs and transfers
  ClusterRouter router_;
  std::shared_ptr<KvNetwork> network_;
};

}  // namespace bricks::engine
