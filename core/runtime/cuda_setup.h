// The engine on the cuda device (cuda/cuda_device.h): refuses what the cuda device does not
// run (pruners, routers, adapters), uploads the weights and sizes the KV cache.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "engine/engine.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"

namespace bricks::engine {

// Throws RuntimeError naming the manifest and the setting.
std::unique_ptr<Engine> make_cuda_engine(const manifest::LoadedManifest& m,
                                         const model::Model& model,
                                         const std::vector<ManifestBrick>& created,
                                         const EngineBricks& bricks,
                                         const host::BrickInstance& attention,
                                         std::string* summary);

}  // namespace bricks::engine
