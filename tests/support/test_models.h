// Models the engine suites run on, made with `make_model` once per process and preset in a
// temp dir that belongs to this process (so parallel test processes never share a file).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "bricks/model/model.h"
#include "scratch_dir.h"

namespace bricks::testing {

// This process's scratch directory for made models.
inline std::filesystem::path process_model_dir() { return scratch_dir("bricks-test-models"); }

// The f32 model of `preset` ("tiny", "moe-tiny", ...) with seed 1.
inline std::filesystem::path process_model(const std::string& preset) {
  static std::mutex mu;
  static std::map<std::string, std::filesystem::path> made;
  std::lock_guard<std::mutex> lock(mu);
  auto it = made.find(preset);
  if (it != made.end()) return it->second;
  const auto file = process_model_dir() / (preset + "-f32.gguf");
  model::MakeModelOptions o;
  o.preset = preset;
  o.dtype = model::DType::F32;
  o.out = file;
  o.seed = 1;
  model::make_model(o);
  return made.emplace(preset, file).first->second;
}

}  // namespace bricks::testing
