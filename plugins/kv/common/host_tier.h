// Host-tier block ids for swapped-out requests. Hands out contiguous runs where it can,
// so a swap moves few, large copies. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bricks::kvc {

class HostTier {
 public:
  HostTier() = default;
  explicit HostTier(int32_t num_blocks)
      : free_(static_cast<size_t>(num_blocks), 1), num_free_(num_blocks) {}

  int32_t num_blocks() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_free() const { return num_free_; }

  // Appends `n` free block ids to `out`: the first contiguous run of n if there is one,
  // otherwise the lowest free ids. The caller has checked num_free() >= n.
  void allocate(int32_t n, std::vector<int32_t>& out);
  void release(int32_t block);

 private:
  std::vector<uint8_t> free_;
  int32_t num_free_ = 0;
};

}  // namespace bricks::kvc
