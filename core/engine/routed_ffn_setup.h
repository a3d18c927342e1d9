// What a manifest's router brick does to the cpu device's FFNs:
//  - a mixture-of-experts model (config.n_experts > 0): the router picks experts at every
//    layer (MoeFfn); without a router brick the model cannot run, and the error says which
//    brick to add;
//  - a dense model with a router brick: the FFNs of the brick's `layers` (every layer when
//    empty) run only the neuron clusters it picks (NeuronFfn). The partition comes from
//    <model file>.partition; when that file is absent it is calibrated at load on the
//    builtin prompts (a progress line on stderr) and saved there for the next run
//    (`bricks partition` makes one with other prompts or settings).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/neuron_partition_file.h"
#include "engine/runtime.h"

namespace bricks::engine {

struct RoutedFfns {
  std::vector<std::shared_ptr<LayerFfn>> per_layer;  // [n_layers] or empty: all dense
  std::string summary;  // for the device line, e.g. "moe: router topk, 2 of 4 experts"
};

// Throws RuntimeError naming the manifest file, the problem and the fix.
RoutedFfns make_routed_ffns(const manifest::LoadedManifest& m, const model::Model& model,
                            const LlamaWeights& weights, const std::vector<ManifestBrick>& bricks,
                            const RuntimeOptions& options);

// The partition for a dense model with the router brick `router` of manifest `m`: loaded
// from <model>.partition, or calibrated (and saved) when absent. Throws RuntimeError.
NeuronPartition partition_for(const manifest::LoadedManifest& m, const model::Model& model,
                              const RuntimeOptions& options);

}  // namespace bricks::engine
