// Synthetic token ids for length-only prompts. Internal to the workload files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "workload/workload_dists.h"

namespace bricks::engine {

class TokenDraw {
 public:
  // Ids in [259, vocab) (above the specials and byte tokens, so synthetic prompts decode
  // to real pieces); only the last id for a vocabulary smaller than that.
  TokenDraw(const WorkloadContext& ctx, uint64_t seed) : rng_(seed) {
    int32_t vocab = ctx.vocab_size;
    if (vocab <= 0 && ctx.tokenizer != nullptr) vocab = ctx.tokenizer->vocab_size();
    if (vocab <= 0) throw WorkloadError("the workload needs a vocabulary size to draw tokens");
    hi_ = vocab;
    lo_ = std::min(259, vocab - 1);
    bos_ = ctx.tokenizer != nullptr ? ctx.tokenizer->bos() : -1;
  }
  int32_t next() {
    return lo_ + static_cast<int32_t>(uniform01(rng_) * static_cast<double>(hi_ - lo_));
  }
  void append(std::vector<int32_t>& out, int32_t n) {
    for (int32_t i = 0; i < n; ++i) out.push_back(next());
  }
  // A prompt of `len` tokens: BOS (when there is one), then as much of `prefix` as fits,
  // then fresh ids.
  std::vector<int32_t> prompt(int32_t len, const std::vector<int32_t>& prefix) {
    std::vector<int32_t> p;
    p.reserve(static_cast<size_t>(len));
    if (bos_ >= 0) p.push_back(bos_);
    for (int32_t t : prefix) {
      if (static_cast<int32_t>(p.size()) >= len) break;
      p.push_back(t);
    }
    append(p, len - static_cast<int32_t>(p.size()));
    return p;
  }
  int32_t bos() const { return bos_; }

 private:
  Rng rng_;
  int32_t lo_ = 0, hi_ = 1, bos_ = -1;
};

// Independent random streams of one seed (arrivals, lengths, tokens, ...), so adding a
// feature to a generator does not shift the draws of the others.
inline Rng stream(uint64_t seed, uint64_t which) {
  std::seed_seq s{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                  static_cast<uint32_t>(which)};
  return Rng(s);
}

}  // namespace bricks::engine
