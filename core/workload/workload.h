// Workloads: requests from a JSONL trace or from a generator described in the manifest.
//
// Everything here is deterministic given the workload's seed: the same manifest gives the
// same requests (arrival times, lengths, token ids, tenants, conversations) on every run.
// Functions are thread-compatible: no shared state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "engine/request.h"
#include "manifest.pb.h"

namespace bricks::engine {

class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a workload needs from the runtime it will run on.
struct WorkloadContext {
  // The model's tokenizer, or null where the device has none (sim): then prompts are
  // lengths only, and a trace line with "prompt" text is an error.
  const model::Tokenizer* tokenizer = nullptr;
  // Synthetic token ids are drawn below this (and above the specials and byte tokens
  // when it is large enough). Taken from the tokenizer when 0.
  int32_t vocab_size = 0;
  // Trace and data files named in the manifest are relative to this directory.
  std::filesystem::path base_dir;
  // Only the first this many requests by arrival are made (0 = all): a generator stops
  // drawing there, so a huge num_requests costs nothing when a run keeps a few.
  size_t max_requests = 0;
  // The model's context in tokens (0 = unknown): a generator whose lengths cannot fit it
  // is refused before any prompt is built.
  int32_t context_length = 0;
  // Set from workload.context_overflow by make_workload: with truncate_prompt or
  // clamp_max_tokens, lengths past the context are fitted at submission instead, and only
  // lengths past kMaxTracePromptTokens are refused.
  ContextOverflow context_overflow = ContextOverflow::kFail;
};

// Builds the requests of `w`, sorted by arrival (the first ctx.max_requests of them). Token ids of
// length-only prompts are drawn from the seed (never special tokens); prompts begin with BOS when
// the tokenizer has one. Throws WorkloadError naming the file, the line or field, and the fix.
std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const WorkloadContext& ctx);

class Generated;

// The requests of a workload one at a time, in arrival order: what make_workload returns,
// request by request. A generator of independent requests draws each one as it is asked
// for, so a run that submits them as they arrive holds only those not ended (a million
// requests in little memory); conversations and traces are built whole first (their
// turns and rows come out of arrival order) and handed out from there.
class RequestStream {
 public:
  // Checks and prepares `w` as make_workload does; throws WorkloadError.
  RequestStream(const bricks::manifest::Workload& w, const WorkloadContext& ctx);
  ~RequestStream();
  RequestStream(const RequestStream&) = delete;
  RequestStream& operator=(const RequestStream&) = delete;

  // The next request into `out`; false after the last.
  bool next(RequestSpec& out);
  // How many requests the stream hands out in all.
  size_t size() const { return size_; }

 private:
  std::unique_ptr<Generated> generated_;  // independent requests, drawn on demand
  std::vector<RequestSpec> built_;        // otherwise, all of them
  size_t size_ = 0, next_ = 0;
  cpu::SamplingParams sampling_;
  bool ignore_eos_ = false;
  ContextOverflow context_overflow_ = ContextOverflow::kFail;
};

// The same with the model's tokenizer; kept for callers that always have one.
std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const model::Tokenizer& tokenizer,
                                       const std::filesystem::path& base_dir);

// One JSONL trace line per request:
//   {"arrival_s": 0.5, "prompt": "text" | "prompt_len": 128, "max_tokens": 64,
//    "tenant": 0, "priority": 0, "conversation": 7, "turn": 1,
//    "prefix_group": 3, "prefix_len": 32}
// "output_len" is accepted for "max_tokens" (default 16). Length-only prompts of one
// conversation extend the previous turn's tokens, and those of one prefix_group share
// their first prefix_len tokens, so prefix caches see what a real trace would give them.
std::vector<RequestSpec> read_trace(const std::filesystem::path& file, const WorkloadContext& ctx,
                                    uint64_t seed);

// Rewrites a generator for one benchmark point: `rate` requests per second (tenants' own
// rates scaled to sum to it), and, when > 0, `num_requests` requests (conversations:
// enough conversations for that many turns) or `duration_s` seconds of arrivals.
void retarget_generator(bricks::manifest::Generator& g, double rate, int32_t num_requests,
                        double duration_s);

// The file a workload's trace names, a relative one resolved against `base_dir`.
std::filesystem::path trace_path(const bricks::manifest::Workload& w,
                                 const std::filesystem::path& base_dir);

// A trace's arrival times, read once (in file order).
class TraceArrivals {
 public:
  // Throws WorkloadError at the first bad row, or when the file cannot be read.
  explicit TraceArrivals(const std::filesystem::path& file);
  // The trace's own mean arrival rate, requests per second: its first `max_requests` rows
  // (all when 0) over the time between their first and last arrival. Throws WorkloadError
  // when they are fewer than two, or all arrive at once (they have no rate).
  double rate(size_t max_requests) const;

 private:
  std::string file_;
  std::vector<double> arrivals_;
};

// One workload run at a benchmark's rates. Made once per manifest: a trace's arrivals are
// read here, so each rate point rewrites the workload without reading the file again.
class RateRetarget {
 public:
  // Reads the arrivals of `w`'s trace (relative to `base_dir`); nothing for a generator.
  // Throws WorkloadError.
  RateRetarget(const bricks::manifest::Workload& w, const std::filesystem::path& base_dir);
  // Rewrites `w` (the workload given to the constructor) for one point at `rate` requests
  // per second and returns how many of its requests the point runs (0: all). A generator is
  // retargeted as retarget_generator does. A trace keeps its rows, lengths and the shape of
  // its bursts and is replayed faster or slower: trace_time_scale is set so that its first
  // `num_requests` rows (all when 0) arrive at `rate` on average, and that count is
  // returned. `duration_s` needs a generator (a trace's duration is its own). Throws
  // WorkloadError naming the fix.
  size_t apply(bricks::manifest::Workload& w, double rate, int32_t num_requests,
               double duration_s) const;

 private:
  std::optional<TraceArrivals> trace_;
};

cpu::SamplingParams sampling_from(const bricks::manifest::Sampling& s);

}  // namespace bricks::engine
