#include "runtime/runtime.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <optional>
#include <thread>

#include "bricks/model/model.h"
#include "cpu/cpu.h"
#include "cuda/cuda_device.h"
#include "engine/adapter_hook.h"
#include "engine/cpu_device.h"
#include "engine/neuron_calibrate.h"
#include "runtime/adapter_setup.h"
#include "runtime/cuda_setup.h"
#include "runtime/manifest_registry.h"
#include "runtime/merge_checkpoints.h"
#include "runtime/prune_setup.h"
#include "runtime/routed_ffn_setup.h"
#include "runtime/sim_setup.h"
#include "runtime/weight_stream_setup.h"
#include "tier/tier_error.h"

namespace bricks::engine {

namespace fs = std::filesystem;

fs::path ensure_builtin_model(const std::string& preset, const std::string& dtype,
                              const fs::path& dir) {
  const std::string d = dtype.empty() ? "f32" : dtype;
  fs::path file = dir / (preset + "-" + d + ".gguf");
  if (fs::exists(file)) return file;
  fs::create_directories(dir);
  model::MakeModelOptions o;
  o.preset = preset;
  o.out = file;
  const auto ft = model::file_type_from_name(d);
  if (!ft) {
    throw RuntimeError("model.dtype '" + d + "' is not one of " + model::supported_file_types());
  }
  o.dtype = model::file_type_base(*ft);
  o.file_type = *ft;
  std::fprintf(stderr, "making the builtin model %s (%s) at %s\n", preset.c_str(), d.c_str(),
               file.c_str());
  int shown = -1;
  model::make_model(o, [&shown](double f) {
    const int tenth = static_cast<int>(f * 10.0);
    if (tenth == shown) return;
    shown = tenth;
    std::fprintf(stderr, "  writing %3d%%\n", tenth * 10);
  });
  return file;
}

namespace {

bricks_dtype kv_dtype_for(const std::string& name, const model::Model& m) {
  if (name == "f32") return BRICKS_DTYPE_F32;
  if (name == "f16") return BRICKS_DTYPE_F16;
  if (!name.empty()) {
    throw RuntimeError("device.kv_dtype '" + name + "' is not supported; use f32 or f16");
  }
  const model::TensorView* q = m.find("blk.0.attn_q.weight");
  return q != nullptr && q->dtype == model::DType::F32 ? BRICKS_DTYPE_F32 : BRICKS_DTYPE_F16;
}

// Bytes as MiB with one decimal, for the device line.
std::string mib(size_t bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f", static_cast<double>(bytes) / (1 << 20));
  return s;
}

}  // namespace

const model::Tokenizer* Runtime::tokenizer() const {
  return model_ != nullptr ? &model_->tokenizer() : nullptr;
}

Runtime::~Runtime() {
  engine_.reset();
  bricks_.clear();  // destroy bricks before their libraries' registry goes
}

EngineBricks Runtime::create_bricks(const manifest::LoadedManifest& m, bool dense,
                                    const host::BrickInstance** attention,
                                    const host::BrickInstance** adapter) {
  EngineBricks eb;
  *attention = nullptr;
  *adapter = nullptr;
  bricks_summary_.clear();
  for (const auto& b : m.proto.bricks()) {
    bricks_kind kind{};
    host::parse_kind(b.kind(), &kind);
    if (dense && kind == BRICKS_KIND_ROUTER) continue;
    const host::BrickInfo* info = registry_->catalogue().find(kind, b.name());
    bricks_.push_back(registry_->create(kind, b.name(), manifest::to_param_map(b, *info)));
    const host::BrickInstance* inst = bricks_.back().get();
    created_.push_back(ManifestBrick{kind, b.name(), inst,
                                     std::vector<int32_t>(b.layers().begin(), b.layers().end())});
    if (kind == BRICKS_KIND_SCHEDULER) eb.scheduler = inst;
    if (kind == BRICKS_KIND_KV) eb.kv = inst;
    if (kind == BRICKS_KIND_ATTENTION) *attention = inst;
    if (kind == BRICKS_KIND_ADAPTER) *adapter = inst;
    if (!bricks_summary_.empty()) bricks_summary_ += " ";
    bricks_summary_ += b.kind() + "/" + b.name();
  }
  if (eb.scheduler == nullptr || eb.kv == nullptr || *attention == nullptr) {
    throw RuntimeError(m.file.string() +
                       ": a manifest needs one scheduler, one kv and one "
                       "attention brick");
  }
  for (const ManifestBrick& b : created_) {
    if (b.kind != BRICKS_KIND_SCHEDULER && b.kind != BRICKS_KIND_KV &&
        b.kind != BRICKS_KIND_ATTENTION && b.kind != BRICKS_KIND_ROUTER &&
        b.kind != BRICKS_KIND_PRUNING && b.kind != BRICKS_KIND_MERGER &&
        b.kind != BRICKS_KIND_ADAPTER) {
      throw RuntimeError(m.file.string() + ": the cpu engine does not run " +
                         std::string(host::kind_name(b.kind)) + " bricks yet (" + b.name +
                         "); remove it from the manifest");
    }
  }
  for (auto& b : bricks_) {
    if (b.get() != eb.kv) b->wire(eb.kv);
  }
  return eb;
}

void Runtime::build_cpu_engine(const manifest::LoadedManifest& m, const CpuEngineParts& parts,
                               RoutedFfns routed) {
  const manifest::Manifest& mp = m.proto;
  EngineOptions eo;
  if (mp.device().kv_cache_bytes() > 0) eo.kv_cache_bytes = mp.device().kv_cache_bytes();
  eo.host_kv_bytes = mp.device().host_kv_bytes();
  eo.disk_kv_bytes = mp.device().disk_kv_bytes();
  if (eo.disk_kv_bytes > 0) {
    eo.disk_dir = mp.device().disk_dir();
    if (eo.disk_dir.is_relative()) eo.disk_dir = m.file.parent_path() / eo.disk_dir;
  }
  eo.kv_dtype = kv_dtype_for(mp.device().kv_dtype(), *model_);
  device_summary_ = "cpu, " + std::to_string(parts.threads) + " threads, " + parts.compute +
                    " compute (" + weights_.compute_path + "), weights " + weights_.weight_types +
                    ", " + mib(weights_.bytes_per_token()) + " MiB read per token, kv " +
                    (eo.kv_dtype == BRICKS_DTYPE_F16 ? "f16" : "f32") + ", model " +
                    parts.model_path.filename().string();
  if (!routed.summary.empty()) device_summary_ += ", " + routed.summary;
  if (mp.device().overlap_swaps()) device_summary_ += ", KV copies beside compute";
  if (stream_ != nullptr) {
    device_summary_ +=
        ", " + std::to_string(stream_->plan().num_streamed()) + " layers read from disk per step";
  }
  if (eo.disk_kv_bytes > 0) {
    device_summary_ += ", KV disk tier " + std::to_string(eo.disk_kv_bytes >> 20) + " MiB in " +
                       eo.disk_dir.string();
  }
  auto cpu_device = std::make_unique<CpuDevice>(weights_, *parts.attention, device_summary_);
  cpu_device->set_overlap_copies(mp.device().overlap_swaps());
  cpu_device->set_weight_stream(stream_.get());
  cpu_device->set_layer_ffns(std::move(routed.per_layer));
  // Pruners (prune_setup.h): their layers split the KV cache into groups the engine sizes
  // and the device's pruning stage allocates through.
  cpu_device->set_pruning(
      make_prune_points(m, created_, *parts.bricks.kv, weights_.config.n_layers));
  eo.prune_layers = cpu_device->prune_layers();
  CpuDevice* cpu = cpu_device.get();
  EngineModel em{weights_.config, &model_->tokenizer()};
  try {
    engine_ = std::make_unique<Engine>(em, parts.bricks, eo, std::move(cpu_device));
  } catch (const tier::TierError& e) {
    throw RuntimeError(m.file.string() + ": device.disk_dir: " + e.what());
  }
  cpu->set_kv_groups(&engine_->kv_groups());
  if (parts.adapter != nullptr) {
    refuse_shared_kv(m, parts.bricks.kv->info());
    auto hook = std::make_shared<AdapterHook>(*parts.adapter, weights_.config, adapter_specs(m),
                                              adapter_rule(mp.model()));
    if (!routed.summary.empty()) {
      const uint32_t ffn =
          (1u << BRICKS_PROJ_GATE) | (1u << BRICKS_PROJ_UP) | (1u << BRICKS_PROJ_DOWN);
      hook->refuse_targets(ffn, "the routed FFN (" + routed.summary + ") does not run through");
    }
    spdlog::info("adapters: {}", hook->summary());
    cpu->forward_pass().set_projection_hook(AdapterHook::as_projection_hook(std::move(hook)));
  }
}

void Runtime::release_engine() {
  engine_.reset();
  bricks_.clear();
  created_.clear();
}

std::unique_ptr<Runtime> Runtime::create(const manifest::LoadedManifest& m,
                                         const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  const auto& mp = m.proto;
  const fs::path base = m.file.parent_path();
  rt->registry_ = load_registry(m, options.allow_group_writable_plugins);

  const std::string device = mp.device().kind().empty() ? "cpu" : mp.device().kind();
  if (device != "cpu" && device != "sim" && device != "cuda") {
    throw RuntimeError(m.file.string() + ": device.kind '" + device +
                       "' is not a device; use \"cpu\", \"cuda\" or \"sim\"");
  }
  const bool cuda = device == "cuda";
  if (cuda) {
    try {
      cuda::require_cuda_device(mp.device().cuda_device());
    } catch (const cuda::CudaUnavailable& e) {
      throw RuntimeError(m.file.string() + ": device.kind \"cuda\": " + e.what());
    }
  }
  // The sim device: a cost model instead of a model file; the bricks are wired as on cpu.
  std::optional<SimSetup> sim;
  if (device == "sim") {
    try {
      sim = make_sim_setup(m);
    } catch (const std::runtime_error& e) {
      throw RuntimeError(e.what());
    }
    if (!options.model.empty()) {
      spdlog::warn("the model file {} is ignored: the sim device models device.sim_model",
                   options.model.string());
    }
  }
  int32_t threads = options.threads >= 0 ? options.threads : mp.device().threads();
  if (threads <= 0)
    threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  cpu::set_num_threads(threads);

  // The model (none on sim).
  fs::path model_path = options.model;
  const std::string compute_name = mp.device().compute().empty() ? "f32" : mp.device().compute();
  if (!sim) {
    // model.merge: the checkpoints combined by the merger brick (merge_checkpoints.h).
    std::unique_ptr<model::Model> merged =
        options.model.empty() ? merge_from_manifest(m, *rt->registry_) : nullptr;
    if (merged) model_path = merged->path();
    if (model_path.empty() && !mp.model().path().empty()) {
      model_path = mp.model().path();
      if (model_path.is_relative()) model_path = base / model_path;
    }
    if (model_path.empty()) {
      const std::string preset = mp.model().builtin().empty() ? "tiny" : mp.model().builtin();
      model_path = ensure_builtin_model(preset, mp.model().dtype(),
                                        options.model_dir.empty() ? "models" : options.model_dir);
    }
    rt->model_ = merged ? std::move(merged) : model::Model::open(model_path);
  }
  if (cuda) {
    // The cuda device uploads the weights itself (cuda_setup.h); the host keeps the mapping.
    rt->weights_.config = rt->model_->config();
  } else if (!sim) {
    if (compute_name != "f32" && compute_name != "bf16") {
      throw RuntimeError("device.compute '" + compute_name + "' is not supported; use f32 or bf16");
    }
    const cpu::Compute compute = compute_name == "bf16" ? cpu::Compute::BF16 : cpu::Compute::F32;
    WeightPlan plan = plan_weight_stream(m, *rt->model_);
    LlamaWeights::LoadOptions load;
    load.streamed = plan.streamed;
    load.file_pages = mp.device().keep_file_pages();
    load.q8_lanes = mp.device().q8_lane_layout();
    rt->weights_ = LlamaWeights::load(*rt->model_, compute, load);
    rt->stream_ = start_weight_stream(m, *rt->model_, std::move(plan), rt->weights_, compute);
    if (rt->stream_ != nullptr) {
      for (const auto& b : mp.bricks()) {
        if (b.kind() != "router") continue;
        throw RuntimeError(m.file.string() +
                           ": device.weight_memory_bytes reads layers from "
                           "disk, and the router brick " +
                           b.name() +
                           " computes the FFN from "
                           "weights kept in memory; remove the router, or give a budget of 0 "
                           "(or one the whole model fits in)");
      }
    }
  }

  // A router over a dense model without a saved partition: calibrate one first, on an
  // engine of the same bricks without the router (routed_ffn_setup.h), then start over.
  std::optional<NeuronPartition> calibrated;
  if (!sim && !cuda) {
    if (std::optional<CalibrationOptions> co = partition_to_calibrate(m, *rt->model_)) {
      CpuEngineParts dense{{}, nullptr, nullptr, threads, compute_name, model_path};
      dense.bricks = rt->create_bricks(m, true, &dense.attention, &dense.adapter);
      rt->build_cpu_engine(m, dense, {});
      try {
        calibrated = save_calibration(
            *rt->model_, calibrate_partition(rt->engine(), rt->weights_, &rt->model_->tokenizer(),
                                             *co, [](const std::string& line) {
                                               std::fprintf(stderr, "  %s\n", line.c_str());
                                             }));
      } catch (const PartitionError& e) {
        throw RuntimeError(m.file.string() + ": " + e.what());
      }
      rt->release_engine();
    }
  }

  CpuEngineParts parts{{}, nullptr, nullptr, threads, compute_name, model_path};
  parts.bricks = rt->create_bricks(m, false, &parts.attention, &parts.adapter);
  if (sim) {
    if (parts.adapter != nullptr || mp.model().has_merge()) {
      throw RuntimeError(m.file.string() +
                         ": the sim device computes no weights, so adapter "
                         "bricks and model.merge do nothing there; use device.kind \"cpu\"");
    }
    refuse_pruning(m, rt->created_, "sim");
    EngineOptions eo;
    eo.kv_cache_bytes = sim->kv_cache_bytes;
    eo.host_kv_bytes = sim->host_kv_bytes;
    eo.kv_dtype = sim->kv_dtype;
    rt->device_summary_ = sim->summary;
    rt->engine_ = std::make_unique<Engine>(EngineModel{sim->config, nullptr}, parts.bricks, eo,
                                           std::move(sim->device));
    return rt;
  }
  if (cuda) {
    rt->engine_ = make_cuda_engine(m, *rt->model_, rt->created_, parts.bricks, *parts.attention,
                                   &rt->device_summary_);
    return rt;
  }
  // Routers: MoE experts, or neuron partitions of a dense FFN (routed_ffn_setup.h).
  rt->build_cpu_engine(m, parts,
                       make_routed_ffns(m, *rt->model_, rt->weights_, rt->created_, calibrated));
  return rt;
}

}  // namespace bricks::engine
