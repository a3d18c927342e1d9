// Shared by the trace suites: scratch trace files and a context without a tokenizer (sim).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/workload.h"
#include "scratch_dir.h"

namespace bricks::engine {

// Writes `text` to `name` in the process's scratch directory and returns its path.
inline std::filesystem::path write(const std::string& name, const std::string& text) {
  const auto p = bricks::testing::scratch_dir("bricks-workload-test") / name;
  std::ofstream(p) << text;
  return p;
}

// Length-only prompts over a vocabulary of 1000, as a sim device reads a trace.
inline WorkloadContext ctx() {
  WorkloadContext c;
  c.vocab_size = 1000;
  return c;
}

}  // namespace bricks::engine
