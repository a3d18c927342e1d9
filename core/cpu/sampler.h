// Token sampling from a row of logits.
//
// Order: repetition penalty over the distinct tokens of `history` (a positive logit is
// divided by the penalty, a negative one multiplied), then greedy when temperature == 0;
// otherwise logits / temperature, top-k, softmax, top-p (the smallest set of most likely
// tokens whose probability reaches top_p), min-p (drop tokens below min_p * the largest
// probability), and a draw from what is left, renormalised. Ties between equal logits go to
// the lower token id, so a seed fixes the result.
#pragma once

#include <cstdint>
#include <span>

namespace bricks::cpu {

struct SamplingParams {
  float temperature = 0;         // 0: greedy; > 0: scale
  float top_p = 1;               // (0, 1]; 1 keeps all
  float min_p = 0;               // [0, 1); 0 keeps all
  float repetition_penalty = 1;  // > 0; 1 is off
  int32_t top_k = 0;             // 0 keeps all
  uint64_t seed = 0;             // seeds the request's Rng
};

// Deterministic per-request generator (xoshiro256** seeded through splitmix64): the same
// seed gives the same sequence on every machine. Not thread-safe; one per request.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1), 24 random bits.
  float uniform();

 private:
  uint64_t s_[4];
};

// Returns the chosen token id. `logits` is modified (penalty and temperature applied).
// Throws bricks::Error naming the field when a parameter is out of range, or when logits is
// empty or holds no finite value. History ids outside the vocabulary are ignored.
int32_t sample(std::span<float> logits, const SamplingParams& p, std::span<const int32_t> history,
               Rng& rng);

}  // namespace bricks::cpu
