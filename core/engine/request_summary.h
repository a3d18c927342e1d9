// What stays of a request once it has ended and its tokens, text and timings are gone:
// the fields a report reads (core/report), a few dozen bytes instead of kilobytes.
#pragma once

#include <cstdint>
#include <string>

#include "engine/request.h"

namespace bricks::engine {

struct RequestSummary {
  uint64_t id = 0;
  int32_t tenant = 0, priority = 0;
  double arrival_s = 0;   // spec.arrival_s
  double finished_s = 0;  // when it finished or failed, on the engine clock
  FinishReason finish = FinishReason::kNone;
  bool cancelled = false;
  std::string failure;  // why it failed, when it did
  int32_t prompt_len = 0, num_generated = 0, num_preemptions = 0;
  int32_t prompt_tokens_truncated = 0, max_tokens_clamped = 0;
  // FNV-1a (64 bit) of the generated token ids: two runs generated the same tokens for a
  // request when their digests match (how tiers and schedulers are checked not to change
  // outputs, without keeping the tokens).
  uint64_t output_digest = 0;
  // Its token times: how many, the first and the last (meaningful when num_token_times > 0).
  int32_t num_token_times = 0;
  double first_token_s = 0, last_token_s = 0;
};

// The summary of `r`, as it stands.
inline RequestSummary summarize(const Request& r) {
  RequestSummary s;
  s.id = r.id;
  s.tenant = r.spec.tenant;
  s.priority = r.spec.priority;
  s.arrival_s = r.spec.arrival_s;
  s.finished_s = r.finished_s;
  s.finish = r.finish;
  s.cancelled = r.cancelled;
  s.failure = r.failure;
  s.prompt_len = r.prompt_len();
  s.num_generated = r.num_generated;
  s.num_preemptions = r.num_preemptions;
  s.prompt_tokens_truncated = r.prompt_tokens_truncated;
  s.max_tokens_clamped = r.max_tokens_clamped;
  uint64_t h = 14695981039346656037ull;
  for (size_t i = static_cast<size_t>(r.prompt_len()); i < r.tokens.size(); ++i) {
    for (int byte = 0; byte < 4; ++byte) {
      h ^= (static_cast<uint32_t>(r.tokens[i]) >> (8 * byte)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
  s.output_digest = h;
  s.num_token_times = static_cast<int32_t>(r.token_times_s.size());
  if (!r.token_times_s.empty()) {
    s.first_token_s = r.token_times_s.front();
    s.last_token_s = r.token_times_s.back();
  }
  return s;
}

}  // namespace bricks::engine
