// Workloads: requests from a JSONL trace or from a generator described in the manifest.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "engine/request.h"
#include "manifest.pb.h"
#include "bricks/model/model.h"

namespace bricks::engine {

class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the requests of `w`. A trace path is relative to `base_dir`. Token ids for
// length-only requests are drawn deterministically from the seed (never special tokens).
// Throws WorkloadError naming the file, the line and the fix.
std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const model::Tokenizer& tokenizer,
                                       const std::filesystem::path& base_dir);

// One JSONL trace line per request:
//   {"arrival_s": 0.5, "prompt": "text" | "prompt_len": 128, "max_tokens": 64,
//    "tenant": 0, "priority": 0, "conversation": 7, "turn": 1, "prefix_group": 3}
std::vector<RequestSpec> read_trace(const std::filesystem::path& file,
                                    const model::Tokenizer& tokenizer, uint64_t seed);

cpu::SamplingParams sampling_from(const bricks::manifest::Sampling& s);

}  // namespace bricks::engine
