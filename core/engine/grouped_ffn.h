// The FFN over groups of neurons that a router picks per token: MoE experts, or the
// neuron clusters of a dense FFN. Tokens are grouped per group so each group runs one
// gate/up GEMM, silu_mul and one down GEMM over all its tokens (gathered rows), and the
// results are scatter-added into the output.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/cpu.h"

namespace bricks::engine {

// One group's SwiGLU FFN: gate and up are [n][hidden], down is [hidden][n].
struct FfnGroup {
  const cpu::Linear* gate = nullptr;
  const cpu::Linear* up = nullptr;
  const cpu::Linear* down = nullptr;
};

// How a group's output enters the sum: scaled by the router's weight (MoE mixes experts),
// or added as is (neuron clusters are parts of one FFN, whose output is the plain sum).
enum class GroupMix { kWeighted, kSum };

// Thread safety: one thread at a time per object (scratch is reused across calls).
class GroupedFfn {
 public:
  // out[t] = sum over i < k with weights[t][i] > 0 of mix(weights[t][i]) *
  //          FFN_{ids[t][i]}(h[t]), for t < rows; out is overwritten.
  // ids/weights are [rows][k] as a router returns them, ids in [0, groups.size()) and
  // distinct per token (RouterCalls checks). A weight of 0 means "does not run".
  void forward(const std::vector<FfnGroup>& groups, const float* h, int64_t rows,
               int64_t hidden, const int32_t* ids, const float* weights, int32_t k, GroupMix mix,
               float* out);

  // Tokens each group ran in the last forward (for tests and statistics).
  const std::vector<int64_t>& last_counts() const { return counts_; }

 private:
  struct Scratch {
    std::vector<float> x, gate, up, y;
  };
  void run_group(const FfnGroup& g, int64_t group, const float* h, int64_t hidden);

  std::vector<int64_t> counts_, offsets_;
  std::vector<int64_t> tokens_;  // CSR by group: token rows, ascending within a group
  std::vector<float> mix_;       // CSR by group: the factor of each (group, token)
  std::vector<Scratch> scratch_;
};

}  // namespace bricks::engine
