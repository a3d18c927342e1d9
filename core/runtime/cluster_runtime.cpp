#include "runtime/cluster_runtime.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cluster/kv_network.h"
#include "runtime/manifest_registry.h"
#include "runtime/runtime_error.h"
#include "runtime/sim_setup.h"
#include "sim/model_presets.h"
#include "workload/workload.h"

namespace bricks::engine {

namespace {

constexpr const char* kDisagg = "disagg";

const manifest::Brick* find_brick(const manifest::Manifest& m, const std::string& kind) {
  for (const manifest::Brick& b : m.bricks()) {
    if (b.kind() == kind) return &b;
  }
  return nullptr;
}

const host::BrickInfo& disagg_info(const host::Catalogue& catalogue) {
  const host::BrickInfo* info = catalogue.find(BRICKS_KIND_SCHEDULER, kDisagg);
  if (info == nullptr) {
    throw RuntimeError(
        "scheduler/disagg is not among the plugins found; build it "
        "(bricks_scheduler_disagg) or add its directory to plugin_paths");
  }
  return *info;
}

// The value of param `name` for brick `b` (nullptr: none written), its default otherwise.
host::ParamValue param_value(const manifest::Brick* b, const host::BrickInfo& info,
                             const std::string& name) {
  if (b != nullptr) {
    host::ParamMap given = manifest::to_param_map(*b, info);
    auto it = given.find(name);
    if (it != given.end()) return it->second;
  }
  const host::ParamInfo* p = info.find_param(name);
  if (p == nullptr || !p->has_default) {
    throw RuntimeError(host::brick_label(info) + " declares no default for param '" + name + "'");
  }
  return host::ParamValue{p->type, p->default_int, p->default_float, p->default_string};
}

int32_t int_param(const manifest::Brick* b, const host::BrickInfo& info, const std::string& n) {
  return static_cast<int32_t>(param_value(b, info, n).i);
}

// The disagg brick of the manifest, or null when its scheduler is another.
const manifest::Brick* disagg_brick(const manifest::Manifest& m) {
  const manifest::Brick* s = find_brick(m, "scheduler");
  return s != nullptr && s->name() == kDisagg ? s : nullptr;
}

struct LinkPreset {
  const char* name;
  double bytes_per_s;
  double latency_s;
};
constexpr LinkPreset kLinks[] = {
    {"nvlink", 300e9, 5e-6},
    {"pcie4", 25e9, 10e-6},
    {"infiniband", 200e9 / 8, 5e-6},
    {"ethernet", 25e9 / 8, 50e-6},
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

bool needs_cluster(const manifest::Manifest& m) { return disagg_brick(m) != nullptr; }

Placement manifest_placement(const manifest::LoadedManifest& m, const host::Catalogue& catalogue) {
  const manifest::Brick* b = disagg_brick(m.proto);
  if (b == nullptr) {
    const int32_t tp = std::max(m.proto.device().tensor_parallel(), 1);
    return Placement{false, 1, tp, 0, 1};
  }
  const host::BrickInfo& info = disagg_info(catalogue);
  Placement p;
  p.disaggregated = true;
  p.prefill_instances = int_param(b, info, "prefill_instances");
  p.prefill_tp = int_param(b, info, "prefill_tp");
  p.decode_instances = int_param(b, info, "decode_instances");
  p.decode_tp = int_param(b, info, "decode_tp");
  if (p.prefill_instances < 1 || p.decode_instances < 1 || p.prefill_tp < 1 || p.decode_tp < 1) {
    throw RuntimeError(m.file.string() +
                       ": scheduler/disagg needs prefill_instances, "
                       "decode_instances, prefill_tp and decode_tp >= 1");
  }
  return p;
}

KvLink manifest_link(const manifest::LoadedManifest& m, const host::Catalogue& catalogue,
                     const Placement& p) {
  const manifest::Brick* b = disagg_brick(m.proto);
  const host::BrickInfo& info = disagg_info(catalogue);
  const std::string preset = param_value(b, info, "link").s;
  KvLink link;
  bool found = false;
  for (const LinkPreset& l : kLinks) {
    if (preset == l.name) {
      link.bytes_per_s = l.bytes_per_s;
      link.latency_s = l.latency_s;
      found = true;
    }
  }
  if (!found) {
    throw RuntimeError(m.file.string() + ": scheduler/disagg link '" + preset +
                       "' is not one of nvlink, pcie4, infiniband, ethernet");
  }
  const double gbps = param_value(b, info, "link_gbps").f;
  if (gbps > 0) link.bytes_per_s = gbps * 1e9 / 8;
  const double latency_us = param_value(b, info, "link_latency_us").f;
  if (latency_us >= 0) link.latency_s = latency_us * 1e-6;
  link.bytes_per_s *= std::min(p.prefill_tp, p.decode_tp);
  link.layerwise = param_value(b, info, "kv_transfer").s == "layerwise";
  return link;
}

ClusterRuntime::~ClusterRuntime() {
  cluster_.reset();  // engines first: they call the bricks
  bricks_.clear();
}

std::unique_ptr<ClusterRuntime> ClusterRuntime::create(const manifest::LoadedManifest& m,
                                                       const ClusterSetupOptions& options) {
  std::unique_ptr<host::Registry> registry = load_registry(m, options.allow_group_writable_plugins);
  std::unique_ptr<ClusterRuntime> rt = create(m, *registry, options);
  rt->own_registry_ = std::move(registry);
  return rt;
}

std::unique_ptr<ClusterRuntime> ClusterRuntime::create(const manifest::LoadedManifest& m,
                                                       const host::Registry& registry,
                                                       const ClusterSetupOptions& options) {
  const manifest::Manifest& mp = m.proto;
  const std::string where = m.file.string() + ": ";
  if (mp.device().kind() != "sim") {
    throw RuntimeError(where +
                       "a cluster of instances (scheduler/disagg, or a placement "
                       "search) runs on the sim device; set device.kind: \"sim\" with a gpu "
                       "and a sim_model");
  }
  const manifest::Brick* sched = find_brick(mp, "scheduler");
  const manifest::Brick* kv = find_brick(mp, "kv");
  if (sched == nullptr || kv == nullptr) {
    throw RuntimeError(where + "a manifest needs one scheduler and one kv brick");
  }
  for (const manifest::Brick& b : mp.bricks()) {
    if (b.kind() != "scheduler" && b.kind() != "kv" && b.kind() != "attention") {
      throw RuntimeError(where + "the sim cluster does not run " + b.kind() + " bricks (" +
                         b.name() + "); remove it from the manifest");
    }
  }
  const host::Catalogue& catalogue = registry.catalogue();

  const bool on_topology = options.topology != nullptr && options.layout != nullptr;
  if (on_topology && (!options.placement || !options.placement->disaggregated)) {
    throw RuntimeError(where + "a cluster on a topology needs its disaggregated placement");
  }
  std::unique_ptr<ClusterRuntime> rt(new ClusterRuntime());
  rt->placement_ = options.placement ? *options.placement : manifest_placement(m, catalogue);
  if (!options.instances.empty()) {
    const int32_t tp = std::max(mp.device().tensor_parallel(), 1);
    rt->placement_ = Placement{false, static_cast<int32_t>(options.instances.size()), tp, 0, 1};
  }
  const Placement& p = rt->placement_;
  const bool manifest_disagg = sched->name() == kDisagg;

  // Scheduler name and params per role.
  auto params_of = [&](const manifest::Brick* b, const std::string& name) {
    const host::BrickInfo& info = registry.find(BRICKS_KIND_SCHEDULER, name);
    return b != nullptr ? manifest::to_param_map(*b, info) : host::ParamMap{};
  };
  std::string colocated_name = sched->name();
  host::ParamMap colocated_params;
  if (manifest_disagg) {
    colocated_name = options.colocated_scheduler;
    const host::BrickInfo& info = registry.find(BRICKS_KIND_SCHEDULER, colocated_name);
    const host::ParamMap given = params_of(sched, kDisagg);
    for (const char* carried : {"max_num_seqs", "preemption"}) {
      auto it = given.find(carried);
      if (it != given.end() && info.find_param(carried) != nullptr) {
        colocated_params[carried] = it->second;
      }
    }
  } else {
    colocated_params = params_of(sched, colocated_name);
  }
  const host::ParamMap disagg_params =
      manifest_disagg ? params_of(sched, kDisagg) : host::ParamMap{};
  const host::BrickInfo& kv_info = registry.find(BRICKS_KIND_KV, kv->name());
  const host::ParamMap kv_params = manifest::to_param_map(*kv, kv_info);

  // One manifest per (GPU preset, tensor-parallel degree) describes the device; every
  // instance still gets its own.
  std::map<std::pair<std::string, int32_t>, manifest::LoadedManifest> per_device;
  auto setup_for = [&](const std::string& gpu, int32_t tp, const SimInstanceShape& shape) {
    auto it = per_device.find({gpu, tp});
    if (it == per_device.end()) {
      it = per_device.emplace(std::make_pair(gpu, tp), m).first;
      it->second.proto.mutable_device()->set_tensor_parallel(tp);
      if (!gpu.empty() && shape.gpu == nullptr) it->second.proto.mutable_device()->set_gpu(gpu);
    }
    try {
      return make_sim_setup(it->second, shape);
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
  };

  struct Want {
    InstanceRole role;
    int32_t tp;
    std::string gpu;  // "" = device.gpu
    int32_t pool = 0;
    SimInstanceShape shape;
  };
  std::vector<Want> wants;
  if (on_topology) {
    for (const InstanceLayout& il : options.layout->instances) {
      Want w{il.role, il.tp, "", 0, {}};
      w.shape.gpu = &options.topology->nodes.at(il.stages.front().node).gpu;
      w.gpu = w.shape.gpu->name;
      for (size_t s = 0; s < il.stages.size(); ++s) {
        const Link next = s < il.links.size() ? il.links[s] : Link{};
        w.shape.pipeline.push_back({il.stages[s].layers, next.bytes_per_s, next.latency_s});
      }
      wants.push_back(std::move(w));
    }
  } else if (!options.instances.empty()) {
    for (const InstanceDevice& d : options.instances)
      wants.push_back({InstanceRole::kColocated, p.prefill_tp, d.gpu, d.pool, {}});
  } else if (p.disaggregated) {
    for (int32_t i = 0; i < p.prefill_instances; ++i)
      wants.push_back({InstanceRole::kPrefill, p.prefill_tp, "", 0, {}});
    for (int32_t i = 0; i < p.decode_instances; ++i)
      wants.push_back({InstanceRole::kDecode, p.decode_tp, "", 0, {}});
  } else {
    for (int32_t i = 0; i < p.prefill_instances; ++i)
      wants.push_back({InstanceRole::kColocated, p.prefill_tp, "", 0, {}});
  }

  std::vector<ClusterInstance> instances;
  std::string first_summary;
  model::LlamaConfig config;
  bricks_dtype kv_dtype = BRICKS_DTYPE_F16;
  for (const Want& w : wants) {
    SimSetup s = setup_for(w.gpu, w.tp, w.shape);
    if (first_summary.empty()) first_summary = s.summary;
    config = s.config;
    kv_dtype = s.kv_dtype;
    rt->bricks_.push_back(registry.create(BRICKS_KIND_KV, kv->name(), kv_params));
    const host::BrickInstance* kv_inst = rt->bricks_.back().get();
    if (w.role == InstanceRole::kColocated) {
      rt->bricks_.push_back(
          registry.create(BRICKS_KIND_SCHEDULER, colocated_name, colocated_params));
    } else {
      host::ParamMap sp = disagg_params;
      sp["role"] = host::enum_value(w.role == InstanceRole::kPrefill ? "prefill" : "decode");
      rt->bricks_.push_back(registry.create(BRICKS_KIND_SCHEDULER, kDisagg, sp));
    }
    host::BrickInstance* sched_inst = rt->bricks_.back().get();
    sched_inst->wire(kv_inst);
    EngineOptions eo;
    eo.kv_cache_bytes = s.kv_cache_bytes;
    eo.host_kv_bytes = s.host_kv_bytes;
    eo.kv_dtype = s.kv_dtype;
    ClusterInstance ci;
    ci.role = w.role;
    ci.gpus = w.tp * std::max<int32_t>(1, static_cast<int32_t>(w.shape.pipeline.size()));
    ci.pool = w.pool;
    ci.engine = std::make_unique<Engine>(
        EngineModel{s.config, nullptr}, EngineBricks{sched_inst, kv_inst}, eo, std::move(s.device));
    instances.push_back(std::move(ci));
  }

  KvLink link;
  if (p.disaggregated && !on_topology) link = manifest_link(m, catalogue, p);
  link.num_layers = config.n_layers;
  const double kv_per_token =
      static_cast<double>(sim::load_model(mp.device().sim_model(), m.base_dir())
                              .kv_bytes_per_token(kv_dtype == BRICKS_DTYPE_F32 ? 4 : 2));
  rt->cluster_ = std::make_unique<Cluster>(std::move(instances), link, kv_per_token);
  if (on_topology) {
    rt->cluster_->set_kv_network(std::make_shared<KvNetwork>(
        *options.topology, *options.layout, kv_per_token / std::max(config.n_layers, 1)));
  }
  rt->vocab_size_ = config.vocab_size;
  rt->bricks_summary_ = "scheduler/" + (p.disaggregated ? std::string(kDisagg) : colocated_name) +
                        " kv/" + kv->name();
  rt->device_summary_ =
      first_summary + "; cluster: " + p.describe() + " (" + std::to_string(p.gpus()) + " GPUs)";
  if (!options.instances.empty()) {
    std::string gpus;
    for (const InstanceDevice& d : options.instances) gpus += (gpus.empty() ? "" : ", ") + d.gpu;
    rt->device_summary_ += " on " + gpus;
  }
  if (on_topology) {
    rt->device_summary_ += " on " + options.topology->name + " (" +
                           (options.layout->nic_aware ? "NIC-aware" : "NIC-oblivious") +
                           " layout), KV over its network after prefill";
  } else if (p.disaggregated) {
    rt->device_summary_ += ", KV link " + fmt("%.1f GB/s", link.bytes_per_s / 1e9) + " + " +
                           fmt("%.0f us", link.latency_s * 1e6) +
                           (link.layerwise ? ", layerwise" : ", after prefill");
  }
  return rt;
}

ClusterProbe::ClusterProbe(const manifest::LoadedManifest& m, const SloSpec& slo,
                           int32_t requests_per_gpu, std::string colocated_scheduler,
                           bool allow_group_writable_plugins)
    : m_(m),
      slo_(slo),
      requests_per_gpu_(requests_per_gpu),
      colocated_scheduler_(std::move(colocated_scheduler)) {
  if (!slo_.any()) {
    throw RuntimeError("the placement search needs an SLO: give TTFT and TPOT targets");
  }
  if (!m.proto.workload().has_generator() && m.proto.workload().trace().empty()) {
    throw RuntimeError(m.file.string() +
                       ": the placement search replays the workload at "
                       "many rates, so it needs workload.generator or workload.trace");
  }
  if (requests_per_gpu_ < 1) {
    throw RuntimeError("the placement search needs >= 1 request per GPU and run");
  }
  try {  // a trace is read here, once; one without a rate stops before the first run
    retarget_.emplace(m.proto.workload(), m.base_dir());
    manifest::Workload probe = m.proto.workload();
    retarget_->apply(probe, 1.0, requests_per_gpu_, 0);
  } catch (const WorkloadError& e) {
    throw RuntimeError(m.file.string() + ": " + e.what());
  }
  registry_ = load_registry(m, allow_group_writable_plugins);
}

ClusterProbe::~ClusterProbe() = default;

bool ClusterProbe::operator()(const Placement& p, double rate) const {
  ClusterSetupOptions o;
  o.placement = p;
  o.colocated_scheduler = colocated_scheduler_;
  return run(p, rate, o);
}

bool ClusterProbe::operator()(const Placement& p, double rate, const Topology& t,
                              const ClusterLayout& layout) const {
  ClusterSetupOptions o;
  o.placement = p;
  o.colocated_scheduler = colocated_scheduler_;
  o.topology = &t;
  o.layout = &layout;
  return run(p, rate, o);
}

bool ClusterProbe::run(const Placement& p, double rate, const ClusterSetupOptions& o) const {
  manifest::LoadedManifest run = m_;
  const size_t keep =
      retarget_->apply(*run.proto.mutable_workload(), rate, requests_per_gpu_ * p.gpus(), 0);
  std::unique_ptr<ClusterRuntime> rt = ClusterRuntime::create(run, *registry_, o);
  WorkloadContext ctx;
  ctx.vocab_size = rt->vocab_size();
  ctx.base_dir = run.base_dir();
  ctx.max_requests = keep;
  Cluster& c = rt->cluster();
  for (RequestSpec& spec : make_workload(run.proto.workload(), ctx)) c.submit(std::move(spec));
  c.run_to_completion();
  return meets_attainment(c.records(), slo_);
}

bool meets_attainment(std::vector<RequestRecord> records, const SloSpec& slo) {
  if (records.empty()) return false;
  std::stable_sort(
      records.begin(), records.end(),
      [](const RequestRecord& a, const RequestRecord& b) { return a.arrival_s < b.arrival_s; });
  const size_t half = records.size() / 2;
  size_t met = 0, met_late = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const bool ok = meets_slo(records[i], slo);
    met += ok ? 1 : 0;
    met_late += ok && i >= half ? 1 : 0;
  }
  const auto share = [](size_t k, size_t n) {
    return static_cast<double>(k) / static_cast<double>(n);
  };
  return share(met, records.size()) >= slo.attainment &&
         share(met_late, records.size() - half) >= slo.attainment;
}

}  // namespace bricks::engine
