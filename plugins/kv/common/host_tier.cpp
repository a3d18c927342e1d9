#include "host_tier.h"

namespace bricks::kvc {

void HostTier::allocate(int32_t n, std::vector<int32_t>& out) {
  if (n <= 0) return;
  const int32_t size = num_blocks();
  int32_t run_start = 0;
  for (int32_t b = 0; b < size; ++b) {
    if (!free_[b]) {
      run_start = b + 1;
      continue;
    }
    if (b - run_start + 1 == n) {
      for (int32_t i = run_start; i <= b; ++i) {
        free_[i] = 0;
        out.push_back(i);
      }
      num_free_ -= n;
      return;
    }
  }
  int32_t taken = 0;
  for (int32_t b = 0; b < size && taken < n; ++b) {
    if (!free_[b]) continue;
    free_[b] = 0;
    out.push_back(b);
    ++taken;
  }
  num_free_ -= taken;
}

void HostTier::release(int32_t block) {
  if (free_[block]) return;
  free_[block] = 1;
  ++num_free_;
}

}  // namespace bricks::kvc
