#include "runtime/prune_setup.h"

#include <algorithm>
#include <string>

namespace bricks::engine {

namespace {

// A bool param's value for brick `index` of the manifest: the manifest's, else the default.
bool bool_param(const manifest::LoadedManifest& m, size_t index, const host::BrickInfo& info,
                const std::string& name) {
  const host::ParamInfo* p = info.find_param(name);
  if (p == nullptr || p->type != BRICKS_PARAM_BOOL) return false;
  if (index < static_cast<size_t>(m.proto.bricks_size())) {
    const auto& params = m.proto.bricks(static_cast<int>(index)).params();
    auto it = params.find(name);
    if (it != params.end() && it->second.v_case() == bricks::manifest::Value::kBool) {
      return it->second.bool_();
    }
  }
  return p->default_int != 0;
}

}  // namespace

std::vector<PrunePoint> make_prune_points(const manifest::LoadedManifest& m,
                                          const std::vector<ManifestBrick>& bricks,
                                          const host::BrickInstance& kv, int32_t num_layers) {
  std::vector<PrunePoint> points;
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ManifestBrick& b = bricks[i];
    if (b.kind != BRICKS_KIND_PRUNING) continue;
    const std::string who = m.file.string() + ": pruning brick '" + b.name + "'";
    std::vector<int32_t> layers = b.layers;
    if (layers.empty()) {
      const auto* vt = b.instance->vtable<bricks_pruning_vtable>();
      for (int32_t l = 0; l < num_layers; ++l) {
        if (vt->prunes_after(b.instance->instance(), l, num_layers) != 0) layers.push_back(l);
      }
    }
    if (layers.empty()) {
      throw RuntimeError(who + " acts after no layer of this " + std::to_string(num_layers) +
                         "-layer model; set its `layers` or its layer param");
    }
    const bool self = bool_param(m, i, b.instance->info(), "self_scores");
    for (int32_t l : layers) {
      if (l < 0 || l > num_layers - 2) {
        throw RuntimeError(who + " prunes after layer " + std::to_string(l) + ", outside [0, " +
                           std::to_string(num_layers - 2) +
                           "] for this model (after the last layer nothing is left to prune)");
      }
      for (const PrunePoint& p : points) {
        if (p.layer == l) {
          throw RuntimeError(who + " and pruning brick '" + p.brick->info().name +
                             "' both act after layer " + std::to_string(l) +
                             "; give each layer to one pruner");
        }
      }
      points.push_back(PrunePoint{l, b.instance, self});
    }
  }
  if (!points.empty()) {
    for (size_t i = 0; i < bricks.size(); ++i) {
      if (bricks[i].instance == &kv && bool_param(m, i, kv.info(), "enable_prefix_cache")) {
        throw RuntimeError(m.file.string() + ": kv brick '" + kv.info().name +
                           "' has its prefix cache on, but a cached prefix never ran through "
                           "the layers after a pruning point; set its enable_prefix_cache "
                           "param to false");
      }
    }
  }
  std::sort(points.begin(), points.end(),
            [](const PrunePoint& a, const PrunePoint& b) { return a.layer < b.layer; });
  return points;
}

void refuse_pruning(const manifest::LoadedManifest& m, const std::vector<ManifestBrick>& bricks,
                    const std::string& device) {
  for (const ManifestBrick& b : bricks) {
    if (b.kind == BRICKS_KIND_PRUNING) {
      throw RuntimeError(m.file.string() + ": pruning brick '" + b.name +
                         "' needs the real "
                         "forward pass; the " +
                         device +
                         " device has none (use device.kind "
                         "\"cpu\", or remove the brick)");
    }
  }
}

}  // namespace bricks::engine
