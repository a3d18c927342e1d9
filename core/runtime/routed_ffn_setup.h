// What a manifest's router brick does to the cpu device's FFNs:
//  - a mixture-of-experts model (config.n_experts > 0): the router picks experts at every
//    layer (MoeFfn); without a router brick the model cannot run, and the error says which
//    brick to add;
//  - a dense model with a router brick: the FFNs of the brick's `layers` (every layer when
//    empty) run only the neuron clusters it picks (NeuronFfn). The partition comes from
//    <model file>.partition; when that file is absent the runtime calibrates one first on
//    the builtin prompts (partition_to_calibrate, then save_calibration) and saves it
//    there for the next run (`bricks partition` makes one with other prompts or settings).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/neuron_calibrate.h"
#include "engine/neuron_partition_file.h"
#include "runtime/runtime.h"

namespace bricks::engine {

// Throws RuntimeError naming the manifest file, the problem and the fix. `calibrated`: the
// partition save_calibration returned for this manifest, when one was calibrated.
RoutedFfns make_routed_ffns(const manifest::LoadedManifest& m, const model::Model& model,
                            const LlamaWeights& weights, const std::vector<ManifestBrick>& bricks,
                            const std::optional<NeuronPartition>& calibrated);

// The calibration to run before the runtime is built, when the manifest has a router brick,
// the model is dense and no partition file <model>.partition exists (a progress line on
// stderr says so); nullopt otherwise.
std::optional<CalibrationOptions> partition_to_calibrate(const manifest::LoadedManifest& m,
                                                         const model::Model& model);

// Stamps a calibrated partition with the model's checksum and saves it next to the model
// (a warning on stderr when it cannot: the partition then serves this run only).
NeuronPartition save_calibration(const model::Model& model, CalibrationResult r);

}  // namespace bricks::engine
