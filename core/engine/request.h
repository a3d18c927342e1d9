// A request as the engine tracks it, from acceptance to its end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "cpu/sampler.h"

namespace bricks::engine {

enum class FinishReason { kNone, kStop, kLength, kFailed };
const char* finish_reason_name(FinishReason r);

// What a client asks for.
struct RequestSpec {
  std::vector<int32_t> prompt;   // token ids, BOS included when wanted
  int32_t max_new_tokens = 16;
  double arrival_s = 0.0;        // relative to the start of the run
  int32_t priority = 0;
  int32_t tenant = 0;
  uint64_t conversation = 0;
  int32_t turn = 0;
  uint64_t prefix_group = 0;
  cpu::SamplingParams sampling;
  bool ignore_eos = false;       // run to max_new_tokens
  std::vector<std::string> stop; // stop strings (checked on decoded text)
};

struct Request {
  uint64_t id = 0;
  RequestSpec spec;
  std::vector<int32_t> tokens;   // prompt + generated
  bricks_request_state state = BRICKS_REQ_WAITING;
  int32_t num_computed = 0;
  int32_t num_generated = 0;
  int32_t num_preemptions = 0;
  std::string text;              // decoded output so far (for stop strings and streaming)
  cpu::Rng rng{0};

  // Timestamps on the engine clock (seconds from the start of the run).
  double first_scheduled_s = -1.0;
  std::vector<double> token_times_s;  // one per generated token
  double finished_s = -1.0;
  FinishReason finish = FinishReason::kNone;
  std::string failure;           // why it failed, when it did

  int32_t prompt_len() const { return static_cast<int32_t>(spec.prompt.size()); }
  int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
  bool done() const { return finish != FinishReason::kNone; }
};

}  // namespace bricks::engine
