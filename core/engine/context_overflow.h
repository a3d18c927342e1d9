// A request's prompt plus max_new_tokens against the model's context: what
// RequestSpec::context_overflow does when they do not fit.
#pragma once

#include <cstdint>
#include <string>

#include "engine/request.h"

namespace bricks::engine {

struct OverflowResult {
  std::string problem;            // why the request cannot run; empty when it can
  int32_t prompt_truncated = 0;   // tokens dropped from the front of the prompt
  int32_t max_tokens_clamped = 0; // output tokens taken off max_new_tokens
};

// Makes `spec` fit `context` tokens by its policy, or says why it cannot. A truncated
// prompt keeps its last tokens (the most recent turn of a chat) and its images after the
// cut, moved to their new offsets; a cut through an image is a problem, as is a request
// whose max_new_tokens alone fills the context.
OverflowResult fit_context(RequestSpec& spec, int32_t context);

}  // namespace bricks::engine
