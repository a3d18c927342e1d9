// Shared by the workload suites: scratch trace files and the contexts they draw with.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "scratch_dir.h"
#include "workload/workload.h"

namespace bricks::engine {

// Writes `text` to `name` in the process's scratch directory and returns its path.
inline std::filesystem::path write(const std::string& name, const std::string& text) {
  const auto p = bricks::testing::scratch_dir("bricks-workload-test") / name;
  std::ofstream(p) << text;
  return p;
}

// Length-only prompts over a vocabulary of 1000, as a sim device reads a trace.
inline WorkloadContext trace_ctx() {
  WorkloadContext c;
  c.vocab_size = 1000;
  return c;
}

// A 32000-token vocabulary, at most `max_requests` requests (0: all) and a model context of
// `context` tokens (0: none).
inline WorkloadContext ctx(size_t max_requests = 0, int32_t context = 0) {
  WorkloadContext c;
  c.vocab_size = 32000;
  c.max_requests = max_requests;
  c.context_length = context;
  return c;
}

}  // namespace bricks::engine
