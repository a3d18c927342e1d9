// Merging checkpoints at load: several models of one architecture combined tensor by
// tensor through a merger brick, into a model the engine runs directly or `bricks merge`
// writes as GGUF.
//
// Thread safety: merge_checkpoints runs the merger brick on several threads at once (the
// merger contract allows it); the functions themselves share no state.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "host/registry.h"
#include "manifest/manifest.h"

namespace bricks::engine {

class MergeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MergePlan {
  std::vector<std::filesystem::path> checkpoints;  // at least one; the first is the reference
  std::vector<double> weights;                     // one per checkpoint
  std::filesystem::path base;                      // empty: no base model
};

// The manifest's model.merge with paths resolved against the manifest (weight 0 -> 1).
MergePlan merge_plan(const manifest::LoadedManifest& m);

// Opens every checkpoint (and the base), checks they share one architecture (config,
// tensor names and shapes; a MergeError names the file and the tensor otherwise), and
// calls `merger` once per tensor on `threads` threads (<= 0: the cpu thread count). The
// result has the first checkpoint's config, tokenizer and tensor types; a tensor the brick
// declines keeps the first checkpoint's values. Its path() is the first checkpoint's
// directory joined with "merge(<file names>)". Throws MergeError, model::ModelError, or
// host::BrickError for an error the brick returns.
std::unique_ptr<model::Model> merge_checkpoints(const MergePlan& plan,
                                                const host::BrickInstance& merger, int threads = 0);

// When the manifest has model.merge: creates its merger brick from `registry` and returns
// the merged model; nullptr otherwise. The manifest must have been validated.
std::unique_ptr<model::Model> merge_from_manifest(const manifest::LoadedManifest& m,
                                                  const host::Registry& registry);

}  // namespace bricks::engine
