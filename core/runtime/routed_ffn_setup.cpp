#include "runtime/routed_ffn_setup.h"

#include <cstdio>

#include "engine/moe_ffn.h"
#include "engine/neuron_ffn.h"
#include "engine/neuron_partition_file.h"

namespace bricks::engine {

namespace {

const manifest::Brick* router_proto(const manifest::LoadedManifest& m) {
  for (const auto& b : m.proto.bricks()) {
    if (b.kind() == "router") return &b;
  }
  return nullptr;
}

// The router's `clusters` param when the manifest sets it (0 when it does not).
int64_t written_clusters(const manifest::LoadedManifest& m) {
  const manifest::Brick* b = router_proto(m);
  if (b == nullptr) return 0;
  auto it = b->params().find("clusters");
  return it != b->params().end() && it->second.v_case() == manifest::Value::kInt ? it->second.int_()
                                                                                 : 0;
}

}  // namespace

namespace {

// The partition saved next to the model. Throws RuntimeError when it is not for this model
// or has another cluster count than the router asks for.
NeuronPartition load_saved_partition(const manifest::LoadedManifest& m, const model::Model& model) {
  const std::filesystem::path file = partition_path_for(model.path());
  const int64_t asked = written_clusters(m);
  NeuronPartition p;
  try {
    p = load_partition(file, model, model_checksum(model));
  } catch (const PartitionError& e) {
    throw RuntimeError(e.what());
  }
  if (asked > 0 && asked != p.clusters) {
    throw RuntimeError(m.file.string() + ": the router asks for " + std::to_string(asked) +
                       " clusters but " + file.string() + " has " + std::to_string(p.clusters) +
                       "; remove the clusters param, or remake the partition with `bricks "
                       "partition --clusters " +
                       std::to_string(asked) + "`");
  }
  return p;
}

// Throws RuntimeError when the router brick names a layer past the model's last.
void check_router_layers(const manifest::LoadedManifest& m, const model::Model& model) {
  const manifest::Brick* router = router_proto(m);
  const int32_t n_layers = model.config().n_layers;
  for (int32_t l : router->layers()) {
    if (l >= n_layers) {
      throw RuntimeError(m.file.string() + ": router " + router->name() + " layer " +
                         std::to_string(l) + " is past the model's last layer (" +
                         std::to_string(n_layers - 1) + ")");
    }
  }
}

}  // namespace

std::optional<CalibrationOptions> partition_to_calibrate(const manifest::LoadedManifest& m,
                                                         const model::Model& model) {
  if (router_proto(m) == nullptr || model.config().n_experts > 0) return std::nullopt;
  const std::filesystem::path file = partition_path_for(model.path());
  if (std::filesystem::exists(file)) return std::nullopt;
  check_router_layers(m, model);
  CalibrationOptions co;
  const int64_t asked = written_clusters(m);
  if (asked > 0) co.clusters = static_cast<int32_t>(asked);
  std::fprintf(stderr,
               "no neuron partition at %s: calibrating %d clusters per layer on the builtin "
               "prompts (once; `bricks partition` makes one with other prompts)\n",
               file.c_str(), co.clusters);
  return co;
}

NeuronPartition save_calibration(const model::Model& model, CalibrationResult r) {
  r.partition.model_checksum = model_checksum(model);
  try {
    save_partition(r.partition, partition_path_for(model.path()));
  } catch (const PartitionError& e) {
    std::fprintf(stderr, "warning: %s; the partition is used for this run only\n", e.what());
  }
  return r.partition;
}

RoutedFfns make_routed_ffns(const manifest::LoadedManifest& m, const model::Model& model,
                            const LlamaWeights& weights, const std::vector<ManifestBrick>& bricks,
                            const std::optional<NeuronPartition>& calibrated) {
  const model::LlamaConfig& c = weights.config;
  const ManifestBrick* router = nullptr;
  for (const ManifestBrick& b : bricks) {
    if (b.kind != BRICKS_KIND_ROUTER) continue;
    if (router != nullptr) {
      throw RuntimeError(m.file.string() + ": more than one router brick (" + router->name + ", " +
                         b.name + "); keep one");
    }
    router = &b;
  }
  RoutedFfns out;
  if (c.n_experts > 0) {
    if (router == nullptr) {
      throw RuntimeError(m.file.string() + ": the model " + model.path().filename().string() +
                         " is a mixture of experts (" + std::to_string(c.n_experts) + " experts, " +
                         std::to_string(c.n_experts_used) +
                         " per token) and the manifest has no router; add "
                         "bricks { kind: \"router\" name: \"topk\" }");
    }
    if (!router->layers.empty()) {
      throw RuntimeError(m.file.string() + ": router " + router->name +
                         " has layers, but a mixture-of-experts model routes at every "
                         "layer; remove `layers` from the router brick");
    }
    auto moe = std::make_shared<MoeFfn>(weights, *router->instance);
    out.per_layer.assign(static_cast<size_t>(c.n_layers), moe);
    out.summary = "moe: router " + router->name + ", " + std::to_string(c.n_experts_used) + " of " +
                  std::to_string(c.n_experts) + " experts per token";
    return out;
  }
  if (router == nullptr) return out;

  check_router_layers(m, model);
  const NeuronPartition p = calibrated ? *calibrated : load_saved_partition(m, model);
  auto ffn = std::make_shared<NeuronFfn>(model, weights, p, router->layers, *router->instance);
  out.per_layer.resize(static_cast<size_t>(c.n_layers));
  for (int32_t l : ffn->layers()) out.per_layer[static_cast<size_t>(l)] = ffn;
  out.summary = "neuron partition: router " + router->name + ", " + std::to_string(p.clusters) +
                " clusters in " + std::to_string(ffn->layers().size()) + " of " +
                std::to_string(c.n_layers) + " layers";
  return out;
}

}  // namespace bricks::engine
