// Fuzzes the trace reader of workloads (workload.h's read_trace): the bytes as a JSONL trace
// file, read once with the builtin tokenizer (text prompts are encoded) and once as a sim
// device reads it (no tokenizer, a vocabulary size only), then as a CSV trace. A WorkloadError is the outcome bad
// bytes should have; any other exception, a crash or a sanitizer report is a finding. The
// reader takes a path, so each input is written to a scratch file first.
#include <string_view>

#include "fuzz_support.h"
#include "workload/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace engine = bricks::engine;
  const std::filesystem::path file = bricks::fuzz::write_scratch_file(
      "trace.jsonl", std::string_view(reinterpret_cast<const char*>(data), size));
  engine::WorkloadContext with_tokenizer;
  with_tokenizer.tokenizer = &bricks::fuzz::builtin_tokenizer();
  with_tokenizer.base_dir = file.parent_path();
  engine::WorkloadContext sim;
  sim.vocab_size = 32000;
  sim.base_dir = file.parent_path();
  for (const engine::WorkloadContext* ctx : {&with_tokenizer, &sim}) {
    try {
      (void)engine::read_trace(file, *ctx, 7);
    } catch (const engine::WorkloadError&) {
    }
  }
  const std::filesystem::path csv = bricks::fuzz::write_scratch_file(
      "trace.csv", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    (void)engine::read_trace(csv, sim, 7);
  } catch (const engine::WorkloadError&) {
  }
  return 0;
}
