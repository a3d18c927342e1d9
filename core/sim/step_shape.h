// What one engine step asks of the GPU: per sequence, the tokens it computes and the
// context it attends over; and the three numbers a calibration table is keyed by.
#pragma once

#include <cstdint>
#include <span>

namespace bricks::sim {

// One sequence of a step's batch.
struct SeqWork {
  int32_t new_tokens = 0;  // tokens computed this step (q_i): 1 for a decode
  int64_t context = 0;     // tokens in its KV after the step (c_i), new ones included
};

// A step summarised as a calibration table sees it. A sequence with one new token is a
// decode; any other is a prefill (a whole prompt or a chunk of one).
struct StepShape {
  int64_t prefill_tokens = 0;      // sum of new tokens over prefill sequences
  int64_t decode_seqs = 0;         // number of decode sequences
  int64_t decode_context_sum = 0;  // sum of their contexts
};

inline StepShape step_shape(std::span<const SeqWork> seqs) {
  StepShape s;
  for (const SeqWork& w : seqs) {
    if (w.new_tokens == 1) {
      ++s.decode_seqs;
      s.decode_context_sum += w.context;
    } else {
      s.prefill_tokens += w.new_tokens;
    }
  }
  return s;
}

}  // namespace bricks::sim
