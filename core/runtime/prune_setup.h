// Pruning bricks from a manifest, as the cpu device takes them: which brick acts after
// which layer, and whether it asked for self scores.
//
// A pruning brick acts after the layers its manifest entry lists in `layers`; with none
// listed, after every layer its prunes_after() accepts. A bool param named `self_scores`
// in a brick's declaration, when true, asks the engine for attention among the prunable
// tokens (engine/prune_stage.h). Pruning needs the kv brick's prefix cache off: a cached
// prefix never ran through the layers after a pruning point.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/prune_stage.h"
#include "runtime/runtime.h"

namespace bricks::engine {

// Throws RuntimeError naming the manifest, the brick and the fix (a layer out of range,
// two pruners after one layer, the prefix cache left on).
std::vector<PrunePoint> make_prune_points(const manifest::LoadedManifest& m,
                                          const std::vector<ManifestBrick>& bricks,
                                          const host::BrickInstance& kv, int32_t num_layers);

// Throws RuntimeError when the manifest has a pruning brick: for devices without one.
void refuse_pruning(const manifest::LoadedManifest& m, const std::vector<ManifestBrick>& bricks,
                    const std::string& device);

}  // namespace bricks::engine
