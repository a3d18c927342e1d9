#include "cluster/cluster.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "cluster/kv_network.h"
#include "engine/clock.h"

namespace bricks::engine {

namespace {
constexpr double kNever = std::numeric_limits<double>::infinity();
}  // namespace

const char* instance_role_name(InstanceRole role) {
  switch (role) {
    case InstanceRole::kColocated:
      return "colocated";
    case InstanceRole::kPrefill:
      return "prefill";
    case InstanceRole::kDecode:
      return "decode";
  }
  return "colocated";
}

double KvLink::delay_s(double bytes, double prefill_s) const {
  const double transfer = bytes / bytes_per_s;
  double left = transfer;
  if (layerwise) {
    left = std::max(transfer / std::max(num_layers, 1), transfer - std::max(prefill_s, 0.0));
  }
  return latency_s + left;
}

Cluster::Cluster(std::vector<ClusterInstance> instances, KvLink link, double kv_bytes_per_token)
    : instances_(std::move(instances)), link_(link), kv_bytes_per_token_(kv_bytes_per_token) {
  if (instances_.empty()) throw std::invalid_argument("a cluster needs at least one instance");
  if (!(link_.bytes_per_s > 0) || !(link_.latency_s >= 0) || !(kv_bytes_per_token_ >= 0)) {
    throw std::invalid_argument(
        "the cluster's KV link needs a bandwidth > 0 and a latency >= 0, and KV bytes per "
        "token >= 0");
  }
  size_t colocated = 0, prefill = 0, decode = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    const ClusterInstance& in = instances_[i];
    if (in.engine == nullptr) {
      throw std::invalid_argument("cluster instance " + std::to_string(i) + " has no engine");
    }
    if (dynamic_cast<SimClock*>(&in.engine->device().clock()) == nullptr) {
      throw std::invalid_argument("cluster instance " + std::to_string(i) +
                                  " runs on a real clock; a cluster simulates its instances "
                                  "side by side and needs devices with simulated clocks "
                                  "(device.kind \"sim\")");
    }
    if (in.gpus < 1) {
      throw std::invalid_argument("cluster instance " + std::to_string(i) + " has gpus < 1");
    }
    if (in.pool < 0) {
      throw std::invalid_argument("cluster instance " + std::to_string(i) + " has pool < 0");
    }
    colocated += in.role == InstanceRole::kColocated ? 1 : 0;
    prefill += in.role == InstanceRole::kPrefill ? 1 : 0;
    decode += in.role == InstanceRole::kDecode ? 1 : 0;
  }
  if (colocated > 0 && colocated != instances_.size()) {
    throw std::invalid_argument(
        "a cluster is either colocated or disaggregated: it cannot mix colocated instances "
        "with prefill or decode ones");
  }
  if (colocated == 0 && (prefill == 0 || decode == 0)) {
    throw std::invalid_argument(
        "a disaggregated cluster needs at least one prefill and one "
        "decode instance (it has " +
        std::to_string(prefill) + " and " + std::to_string(decode) + ")");
  }
  disaggregated_ = colocated == 0;
  slots_.resize(instances_.size());
}

Cluster::~Cluster() = default;

size_t Cluster::submit(RequestSpec spec) {
  const size_t index = requests_.size();
  ClusterRequest cr;
  cr.merged.id = index + 1;
  cr.merged.tokens = spec.prompt;
  const double arrival = spec.arrival_s;
  cr.merged.spec = std::move(spec);
  requests_.push_back(std::move(cr));
  unrouted_.emplace(arrival, index);
  return index;
}

int32_t Cluster::gpus() const {
  int32_t n = 0;
  for (const ClusterInstance& in : instances_) n += in.gpus;
  return n;
}

double Cluster::now() const {
  double t = 0;
  for (const ClusterInstance& in : instances_) t = std::max(t, in.engine->now());
  return t;
}

double Cluster::next_event(size_t i) const {
  const Engine& e = *instances_[i].engine;
  if (e.num_live() > 0) return e.now();
  const std::multiset<double>& a = slots_[i].arrivals;
  return a.empty() ? kNever : std::max(e.now(), *a.begin());
}

void Cluster::set_router(ClusterRouter router) {
  if (disaggregated_ && router) {
    throw std::invalid_argument(
        "a router picks among colocated instances; a disaggregated cluster routes by phase");
  }
  router_ = std::move(router);
}

void Cluster::set_kv_network(std::shared_ptr<KvNetwork> network) {
  if (network && !disaggregated_) {
    throw std::invalid_argument(
        "a KV network joins prefill and decode instances; this cluster is colocated");
  }
  if (network && network->num_instances() != instances_.size()) {
    throw std::invalid_argument("the KV network's layout has " +
                                std::to_string(network->num_instances()) +
                                " instances and the cluster " + std::to_string(instances_.size()));
  }
  network_ = std::move(network);
}

size_t Cluster::least_loaded_of(const std::vector<size_t>& candidates) const {
  size_t best = instances_.size();
  for (size_t i : candidates) {
    if (best == instances_.size() || slots_[i].load < slots_[best].load) best = i;
  }
  return best;
}

size_t Cluster::least_loaded_prefill() const {
  size_t best = instances_.size();
  int64_t best_target_load = 0;
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (instances_[i].role != InstanceRole::kPrefill) continue;
    const size_t target = least_loaded_of(network_->targets(i));
    const int64_t target_load = target < instances_.size() ? slots_[target].load : 0;
    if (best == instances_.size() || slots_[i].load < slots_[best].load ||
        (slots_[i].load == slots_[best].load && target_load < best_target_load)) {
      best = i;
      best_target_load = target_load;
    }
  }
  return best;
}

size_t Cluster::least_loaded(InstanceRole role, int32_t pool) const {
  size_t best = instances_.size();
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (instances_[i].role != role) continue;
    if (pool >= 0 && instances_[i].pool != pool) continue;
    if (best == instances_.size() || slots_[i].load < slots_[best].load) best = i;
  }
  return best;
}

void Cluster::place(size_t index, size_t instance, RequestSpec spec, int64_t load) {
  Slot& slot = slots_[instance];
  slot.arrivals.insert(spec.arrival_s);
  slot.load += load;
  const uint64_t id = instances_[instance].engine->submit(std::move(spec));
  ClusterRequest& cr = requests_[index];
  (instances_[instance].role == InstanceRole::kDecode ? cr.decode_engine_id : cr.first_engine_id) =
      id;
  slot.owner[id] = Owned{index, load};
  collect(instance);  // a request the engine refused at once has ended already
}

bool Cluster::step() {
  const double route_at = unrouted_.empty() ? kNever : unrouted_.begin()->first;
  size_t best = instances_.size();
  double best_at = kNever;
  for (size_t i = 0; i < instances_.size(); ++i) {
    const double t = next_event(i);
    if (t < best_at) {
      best_at = t;
      best = i;
    }
  }
  if (unrouted_.empty() && best == instances_.size()) return false;

  if (!unrouted_.empty() && route_at <= best_at) {
    const size_t index = unrouted_.begin()->second;
    unrouted_.erase(unrouted_.begin());
    ClusterRequest& cr = requests_[index];
    RequestSpec spec = cr.merged.spec;
    int64_t load = 1;
    InstanceRole phase = InstanceRole::kColocated;
    if (disaggregated_) {
      phase = InstanceRole::kPrefill;
      load = static_cast<int64_t>(spec.prompt.size());
      // It leaves the prefill instance with its first token (an invalid count stays, so
      // that the engine refuses it with its own message).
      spec.max_new_tokens = std::min(spec.max_new_tokens, 1);
    }
    const int32_t pool = router_ ? router_(index, spec) : -1;
    const size_t instance = network_ && phase == InstanceRole::kPrefill ? least_loaded_prefill()
                                                                        : least_loaded(phase, pool);
    if (instance == instances_.size()) {
      throw std::out_of_range("the cluster's router sent request " + std::to_string(index) +
                              " to pool " + std::to_string(pool) + ", which has no instance");
    }
    cr.first_instance = static_cast<int32_t>(instance);
    place(index, instance, std::move(spec), load);
  } else {
    instances_[best].engine->step();
    collect(best);
  }
  return num_ended_ < requests_.size();
}

void Cluster::run_to_completion(const std::function<void(const Cluster&)>& progress,
                                const std::function<bool()>& stop) {
  int64_t events = 0;
  while (!(stop && stop()) && step()) {
    if (progress && (++events % 64) == 0) progress(*this);
  }
  if (progress) progress(*this);
}

void Cluster::collect(size_t i) {
  Slot& slot = slots_[i];
  const std::vector<const Request*>& ended = instances_[i].engine->ended();
  while (slot.ended_seen < ended.size()) {
    const Request& r = *ended[slot.ended_seen++];
    auto it = slot.owner.find(r.id);
    if (it == slot.owner.end()) {
      throw std::logic_error("cluster instance " + std::to_string(i) + " ended request " +
                             std::to_string(r.id) + " that the cluster never gave it");
    }
    const Owned owned = it->second;
    slot.owner.erase(it);
    slot.load -= owned.load;
    auto at = slot.arrivals.find(r.spec.arrival_s);
    if (at != slot.arrivals.end()) slot.arrivals.erase(at);
    if (instances_[i].role == InstanceRole::kDecode) {
      on_decode_ended(i, r, owned.index);
    } else {
      on_first_ended(i, r, owned.index);
    }
  }
}

void Cluster::on_first_ended(size_t i, const Request& r, size_t index) {
  ClusterRequest& cr = requests_[index];
  Request& m = cr.merged;
  // What the first instance made of the prompt to fit the context (a prefill instance runs
  // one output token; a clamp of the rest happens on the decode instance).
  if (r.prompt_tokens_truncated > 0) {
    m.spec.prompt = r.spec.prompt;
    m.spec.images = r.spec.images;
    m.prompt_tokens_truncated = r.prompt_tokens_truncated;
  }
  m.max_tokens_clamped = r.max_tokens_clamped;
  m.first_scheduled_s = r.first_scheduled_s;
  m.token_times_s = r.token_times_s;
  m.tokens = r.tokens;
  m.num_computed = r.num_computed;
  m.num_generated = r.num_generated;
  m.num_preemptions = r.num_preemptions;
  m.text = r.text;
  const bool handoff = instances_[i].role == InstanceRole::kPrefill &&
                       r.finish == FinishReason::kLength && r.num_generated == 1 &&
                       m.spec.max_new_tokens > 1;
  if (!handoff) {
    m.finish = r.finish;
    m.finished_s = r.finished_s;
    if (!r.failure.empty()) {
      m.failure = std::string(instance_role_name(instances_[i].role)) + " instance " +
                  std::to_string(i) + ": " + r.failure;
    }
    end(index);
    return;
  }
  cr.handoff_s = r.token_times_s.back();
  const double bytes = static_cast<double>(r.prompt_len()) * kv_bytes_per_token_;
  const size_t j =
      network_ ? least_loaded_of(network_->targets(i)) : least_loaded(InstanceRole::kDecode);
  if (j == instances_.size()) {
    throw std::logic_error("prefill instance " + std::to_string(i) + " has no decode instance");
  }
  double delay = 0;
  if (network_) {
    delay = network_->transfer(i, j, r.prompt_len(), cr.handoff_s) - cr.handoff_s;
  } else {
    const double prefill_s = r.first_scheduled_s >= 0 ? cr.handoff_s - r.first_scheduled_s : 0.0;
    delay = link_.delay_s(bytes, prefill_s);
  }
  cr.kv_ready_s = cr.handoff_s + delay;
  cr.kv_bytes = static_cast<int64_t>(bytes);
  ++extra_.handoffs;
  extra_.transferred_bytes += cr.kv_bytes;
  extra_.transfer_s_sum += delay;

  RequestSpec d = m.spec;
  d.prompt = r.tokens;  // the prompt and the first token
  d.max_new_tokens = m.spec.max_new_tokens - 1;
  d.kv_ready_tokens = r.prompt_len();
  d.arrival_s = cr.kv_ready_s;
  cr.decode_instance = static_cast<int32_t>(j);
  place(index, j, std::move(d), 1);
}

void Cluster::on_decode_ended(size_t i, const Request& r, size_t index) {
  Request& m = requests_[index].merged;
  m.token_times_s.insert(m.token_times_s.end(), r.token_times_s.begin(), r.token_times_s.end());
  m.tokens = r.tokens;
  m.num_computed = r.num_computed;
  m.num_generated += r.num_generated;
  m.num_preemptions += r.num_preemptions;
  m.max_tokens_clamped += r.max_tokens_clamped;
  m.text += r.text;
  m.finish = r.finish;
  m.finished_s = r.finished_s;
  if (!r.failure.empty()) m.failure = "decode instance " + std::to_string(i) + ": " + r.failure;
  end(index);
}

void Cluster::end(size_t index) {
  ended_order_.push_back(index);
  ++num_ended_;
}

ClusterStats Cluster::stats() const {
  ClusterStats s = extra_;
  for (const ClusterInstance& in : instances_) {
    const EngineStats& e = in.engine->stats();
    s.steps += e.steps;
    s.batched_tokens += e.batched_tokens;
    s.preemptions += e.preemptions;
    s.swapped_bytes += e.swapped_bytes;
  }
  return s;
}

std::vector<RequestRecord> Cluster::records() const {
  std::vector<RequestRecord> out;
  out.reserve(ended_order_.size());
  for (size_t index : ended_order_) out.push_back(record_of(requests_[index].merged));
  return out;
}

Report Cluster::report(const SloSpec& slo) const {
  Report rep = Report::from_records(records(), slo);
  rep.submitted = requests_.size();
  rep.unfinished = rep.submitted - rep.finished - rep.failed;
  for (size_t index : ended_order_) {
    const Request& m = requests_[index].merged;
    if (m.finish == FinishReason::kFailed) {
      rep.failures.add("request " + std::to_string(m.id), m.failure);
    }
  }
  double util_sum = 0, busy = 0, forward = 0;
  int64_t hit = 0, query = 0;
  for (const ClusterInstance& in : instances_) {
    const EngineStats& e = in.engine->stats();
    rep.steps += e.steps;
    rep.preemptions += e.preemptions;
    rep.swapped_bytes += e.swapped_bytes;
    const KvCopyTime copy_time = in.engine->kv_copy_time();
    rep.kv_copy_s += copy_time.total_s;
    rep.kv_copy_hidden_s += copy_time.hidden_s;
    util_sum += e.kv_util_sum;
    rep.kv_util_max = std::max(rep.kv_util_max, e.kv_util_max);
    busy += e.busy_s;
    forward += e.forward_s;
    const bricks_kv_stats ks = in.engine->kv_stats();
    hit += ks.prefix_hit_tokens;
    query += ks.prefix_query_tokens;
  }
  rep.kv_util_mean = rep.steps > 0 ? util_sum / static_cast<double>(rep.steps) : 0.0;
  rep.forward_share = busy > 0 ? forward / busy : 0.0;
  rep.prefix_hit_rate = query > 0 ? static_cast<double>(hit) / static_cast<double>(query) : 0.0;
  return rep;
}

}  // namespace bricks::engine
