// Log-probabilities of generated tokens, as the OpenAI API reports them: from the model's
// raw next-token logits (before repetition penalty and temperature).
#pragma once

#include <cstdint>
#include <span>

#include "engine/request.h"

namespace bricks::engine {

// The log-softmax of `logits` at `chosen`, and the `top` most likely tokens (ties to the
// lower id) with theirs. `top` is clamped to the row's size; `chosen` must be in range.
GeneratedLogprobs logprobs_of(std::span<const float> logits, int32_t chosen, int32_t top);

}  // namespace bricks::engine
