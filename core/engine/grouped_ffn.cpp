#include "engine/grouped_ffn.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>

namespace bricks::engine {

namespace {

bool runs_as_gemv(const FfnGroup& g, int64_t m) {
  using P = cpu::Linear::Path;
  return g.gate->path_for(m) == P::Gemv && g.up->path_for(m) == P::Gemv &&
         g.down->path_for(m) == P::Gemv;
}

}  // namespace

void GroupedFfn::run_group(const FfnGroup& g, int64_t group, const float* h, int64_t hidden) {
  const int64_t n = counts_[group];
  const int64_t f = g.gate->rows();
  Scratch& s = scratch_[static_cast<size_t>(group)];
  s.x.resize(static_cast<size_t>(n * hidden));
  s.gate.resize(static_cast<size_t>(n * f));
  s.up.resize(s.gate.size());
  s.y.resize(s.x.size());
  const int64_t* tok = tokens_.data() + offsets_[group];
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(s.x.data() + i * hidden, h + tok[i] * hidden, sizeof(float) * hidden);
  }
  g.gate->forward(s.x.data(), n, s.gate.data());
  g.up->forward(s.x.data(), n, s.up.data());
  cpu::silu_mul(s.gate.data(), s.up.data(), n * f, s.gate.data());
  g.down->forward(s.gate.data(), n, s.y.data());
}

void GroupedFfn::forward(const std::vector<FfnGroup>& groups, const float* h, int64_t rows,
                         int64_t hidden, const int32_t* ids, const float* weights, int32_t k,
                         GroupMix mix, float* out) {
  const int64_t G = static_cast<int64_t>(groups.size());
  counts_.assign(static_cast<size_t>(G), 0);
  for (int64_t t = 0; t < rows; ++t) {
    for (int32_t i = 0; i < k; ++i) {
      if (weights[t * k + i] > 0.0f) ++counts_[ids[t * k + i]];
    }
  }
  offsets_.assign(static_cast<size_t>(G + 1), 0);
  for (int64_t g = 0; g < G; ++g) offsets_[g + 1] = offsets_[g] + counts_[g];
  tokens_.resize(static_cast<size_t>(offsets_[G]));
  mix_.resize(tokens_.size());
  std::vector<int64_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (int64_t t = 0; t < rows; ++t) {
    for (int32_t i = 0; i < k; ++i) {
      const float w = weights[t * k + i];
      if (!(w > 0.0f)) continue;
      const int64_t at = fill[ids[t * k + i]]++;
      tokens_[at] = t;
      mix_[at] = mix == GroupMix::kWeighted ? w : 1.0f;
    }
  }
  if (scratch_.size() < groups.size()) scratch_.resize(groups.size());

  // Small groups (the GEMV path) run side by side, each on its own scratch; a group big
  // enough for the GEMM path runs alone with every core, since the GEMM library keeps its
  // own thread team and must not be entered from several workers at once.
  std::vector<int64_t> small, large;
  for (int64_t g = 0; g < G; ++g) {
    if (counts_[g] == 0) continue;
    (runs_as_gemv(groups[g], counts_[g]) ? small : large).push_back(g);
  }
  // isolate: a worker waiting inside one group's kernel must not pick up another group,
  // whose kernel would reuse the same thread-local conversion buffers.
  tbb::parallel_for(size_t{0}, small.size(), [&](size_t i) {
    tbb::this_task_arena::isolate([&] { run_group(groups[small[i]], small[i], h, hidden); });
  });
  for (int64_t g : large) run_group(groups[g], g, h, hidden);

  // The scatter-add runs in group order, so the sum does not depend on the threads.
  std::fill(out, out + rows * hidden, 0.0f);
  for (int64_t g = 0; g < G; ++g) {
    const Scratch& s = scratch_[static_cast<size_t>(g)];
    for (int64_t i = 0; i < counts_[g]; ++i) {
      const int64_t at = offsets_[g] + i;
      float* dst = out + tokens_[at] * hidden;
      const float* src = s.y.data() + i * hidden;
      const float m = mix_[at];
      for (int64_t j = 0; j < hidden; ++j) dst[j] += m * src[j];
    }
  }
}

}  // namespace bricks::engine
