// device.weight_memory_bytes on the cpu device: the plan of which layers stay resident and
// which are read from the model file every step (engine/weight_plan.h), and the stream
// that reads them (engine/weight_stream.h).
#pragma once

#include <memory>

#include "bricks/model/model.h"
#include "engine/llama_weights.h"
#include "engine/weight_plan.h"
#include "engine/weight_stream.h"
#include "manifest/manifest.h"

namespace bricks::engine {

// The plan for the manifest's budget (all resident when it is 0 or the model fits). Throws
// RuntimeError naming the manifest, the sizes and the fix when the budget cannot hold what
// streaming needs, or the model cannot be streamed.
WeightPlan plan_weight_stream(const manifest::LoadedManifest& m, const model::Model& model);

// When the plan streams some layer: measures the disk's and the compute's read rates into
// the plan, logs it, and starts the stream over `weights` (loaded with the plan's mask).
// Null when nothing is streamed.
std::unique_ptr<WeightStream> start_weight_stream(const manifest::LoadedManifest& m,
                                                  const model::Model& model, WeightPlan plan,
                                                  const LlamaWeights& weights,
                                                  cpu::Compute compute);

}  // namespace bricks::engine
