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

// The model of `preset` ("tiny", "moe-tiny", ...) with seed 1, its matrices in `dtype`.
inline std::filesystem::path process_model(const std::string& preset,
                                           model::DType dtype = model::DType::F32) {
  static std::mutex mu;
  static std::map<std::string, std::filesystem::path> made;
  std::lock_guard<std::mutex> lock(mu);
  const std::string name = preset + "-" + model::dtype_name(dtype);
  auto it = made.find(name);
  if (it != made.end()) return it->second;
  const auto file = process_model_dir() / (name + ".gguf");
  model::MakeModelOptions o;
  o.preset = preset;
  o.dtype = dtype;
  o.out = file;
  o.seed = 1;
  model::make_model(o);
  return made.emplace(name, file).first->second;
}

}  // namespace bricks::testing
