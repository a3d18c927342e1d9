#include "toy_cluster.h"

#include <cmath>

#include "engine/kv_pool.h"

namespace bricks::testing {

const host::Registry& toy_registry() {
  static const host::Registry registry = [] {
    host::LoadOptions lo;
    lo.search_path = {BRICKS_PLUGIN_BUILD_DIR};
    lo.scan_in_child = false;
    return host::Registry(lo);
  }();
  return registry;
}

model::LlamaConfig toy_config() {
  model::LlamaConfig c;
  c.arch = "llama";
  c.name = "toy";
  c.vocab_size = 1000;
  c.hidden = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 1;
  c.head_dim = 8;
  c.ffn = 64;
  c.context_length = 4096;
  return c;
}

std::vector<engine::ClusterInstance> toy_instances(
    const engine::Placement& p, const ToyClusterOptions& o,
    std::vector<std::unique_ptr<host::BrickInstance>>& bricks,
    std::vector<const ToyDevice*>* devices) {
  struct Want {
    engine::InstanceRole role;
    int32_t tp;
  };
  std::vector<Want> wants;
  if (p.disaggregated) {
    for (int32_t i = 0; i < p.prefill_instances; ++i) wants.push_back({engine::InstanceRole::kPrefill, p.prefill_tp});
    for (int32_t i = 0; i < p.decode_instances; ++i) wants.push_back({engine::InstanceRole::kDecode, p.decode_tp});
  } else {
    for (int32_t i = 0; i < p.prefill_instances; ++i) wants.push_back({engine::InstanceRole::kColocated, p.prefill_tp});
  }
  const host::Registry& reg = toy_registry();
  const model::LlamaConfig config = toy_config();
  const engine::KvShape shape{config.n_layers, config.n_kv_heads, config.head_dim, o.block_size,
                              BRICKS_DTYPE_F32};
  std::vector<engine::ClusterInstance> out;
  for (const Want& w : wants) {
    bricks.push_back(reg.create(BRICKS_KIND_KV, "paged",
                                {{"block_size", host::int_value(o.block_size)}}));
    const host::BrickInstance* kv = bricks.back().get();
    if (w.role == engine::InstanceRole::kColocated) {
      bricks.push_back(reg.create(BRICKS_KIND_SCHEDULER, o.colocated_scheduler, o.colocated_params));
    } else {
      host::ParamMap sp = o.disagg_params;
      sp["role"] = host::enum_value(w.role == engine::InstanceRole::kPrefill ? "prefill" : "decode");
      bricks.push_back(reg.create(BRICKS_KIND_SCHEDULER, "disagg", sp));
    }
    bricks.back()->wire(kv);
    ToyCost cost = o.cost;
    cost.tp = w.tp;
    auto device = std::make_unique<ToyDevice>(cost, o.wall_clock && out.empty());
    if (devices != nullptr) devices->push_back(device.get());
    engine::EngineOptions eo;
    eo.kv_cache_bytes = o.kv_tokens / o.block_size * static_cast<int64_t>(shape.block_bytes());
    eo.kv_dtype = BRICKS_DTYPE_F32;
    engine::ClusterInstance ci;
    ci.role = w.role;
    ci.gpus = w.tp;
    ci.engine = std::make_unique<engine::Engine>(engine::EngineModel{config, nullptr},
                                                 engine::EngineBricks{bricks.back().get(), kv},
                                                 eo, std::move(device));
    out.push_back(std::move(ci));
  }
  return out;
}

ToyCluster::ToyCluster(const engine::Placement& p, const ToyClusterOptions& o) {
  cluster_ = std::make_unique<engine::Cluster>(toy_instances(p, o, bricks_, &devices_), o.link,
                                               o.kv_bytes_per_token);
}

ToyCluster::~ToyCluster() {
  cluster_.reset();
  bricks_.clear();
}

std::vector<engine::RequestSpec> toy_workload(const ToyWorkload& w) {
  uint64_t s = w.seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  auto uniform = [&](int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  };
  std::vector<engine::RequestSpec> out;
  double t = 0;
  for (int32_t i = 0; i < w.num_requests; ++i) {
    const double u = (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0;
    t += -std::log(u) / w.rate;
    engine::RequestSpec r;
    r.arrival_s = t;
    r.prompt.resize(static_cast<size_t>(uniform(w.min_prompt, w.max_prompt)));
    for (int32_t& tok : r.prompt) tok = uniform(3, 999);
    r.max_new_tokens = uniform(w.min_output, w.max_output);
    r.ignore_eos = true;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace bricks::testing
