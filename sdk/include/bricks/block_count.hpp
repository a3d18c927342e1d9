// bricks/block_count.hpp: blocks needed to hold a number of tokens.
//
// (tokens + block_size - 1) / block_size for every int64 value, with a shift in place of
// the division when the block size is a power of two (as every shipped kv brick's is). The
// division was the costliest instruction of a scheduler's per-request work in a decode step.
// A value type; safe to copy, const methods only after construction.
#pragma once

#include <cstdint>

namespace bricks::sched {

class BlockCount {
 public:
  // block_size >= 1.
  explicit BlockCount(int32_t block_size = 1) : block_size_(block_size) {
    for (int32_t s = 0; s < 31; ++s) {
      if ((int32_t{1} << s) == block_size) shift_ = s;
    }
  }
  int64_t operator()(int64_t tokens) const {
    const int64_t t = tokens + block_size_ - 1;
    // Division truncates toward zero, a shift rounds down: they agree from 0 up.
    return shift_ >= 0 && t >= 0 ? t >> shift_ : t / block_size_;
  }
  int32_t block_size() const { return block_size_; }

 private:
  int32_t block_size_;
  int32_t shift_ = -1;
};

}  // namespace bricks::sched
