// pruning/fastv: FastV's rule. After layer K, of the prunable tokens (image patches) keep
// the round(keep_ratio * count) that received the most attention from the text query rows;
// keep every other token.
//
// Thread safety: one host thread at a time (abi.h rule).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"

namespace {

using bricks::Error;

class FastV final : public bricks::Pruner {
 public:
  FastV(const bricks::Host& host, const bricks::Params& params)
      : Pruner(host), layer_(params.get_int("layer")), keep_ratio_(params.get_float("keep_ratio")) {
    if (layer_ < 0) throw Error::invalid("pruning fastv: layer must be >= 0");
    if (!(keep_ratio_ >= 0.0 && keep_ratio_ <= 1.0)) {
      throw Error::invalid("pruning fastv: keep_ratio " + std::to_string(keep_ratio_) +
                           " is outside [0, 1]");
    }
  }

  bool prunes_after(int32_t layer, int32_t /*num_layers*/) const override {
    return layer == layer_;
  }

  // Keeps every non-prunable token and the top round(keep_ratio * prunable) prunable ones
  // by text_scores, ties to the lower index; indices out ascending.
  void select(const bricks_prune_input& in, bricks_keep_set& out) override {
    if (in.num_tokens < 0) throw Error::invalid("pruning fastv: num_tokens is negative");
    if (in.num_tokens > 0 && (in.prunable == nullptr || in.text_scores == nullptr)) {
      throw Error::invalid(
          "pruning fastv: prunable and text_scores must be set (wire an attention brick that "
          "provides attention.scores)");
    }
    keep_.clear();
    candidates_.clear();
    for (int32_t i = 0; i < in.num_tokens; ++i) {
      if (in.prunable[i] != 0) {
        candidates_.push_back(i);
      } else {
        keep_.push_back(i);
      }
    }
    const auto count =
        static_cast<size_t>(std::lround(keep_ratio_ * static_cast<double>(candidates_.size())));
    const float* scores = in.text_scores;
    // Highest score first, lower index first among equals; NaN scores rank last.
    auto better = [scores](int32_t a, int32_t b) {
      const float sa = std::isnan(scores[a]) ? -INFINITY : scores[a];
      const float sb = std::isnan(scores[b]) ? -INFINITY : scores[b];
      return sa != sb ? sa > sb : a < b;
    };
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(count),
                      candidates_.end(), better);
    keep_.insert(keep_.end(), candidates_.begin(),
                 candidates_.begin() + static_cast<ptrdiff_t>(count));
    std::sort(keep_.begin(), keep_.end());
    out.keep = keep_.data();
    out.num_keep = static_cast<int32_t>(keep_.size());
  }

 private:
  const int64_t layer_;
  const double keep_ratio_;
  std::vector<int32_t> keep_;        // the last answer, valid until the next call
  std::vector<int32_t> candidates_;  // prunable token indices, reordered by rank
};

const bricks_param_spec kParams[] = {
    bricks::param_int("layer", 2, 0, 1 << 20, "Prune after this layer (0-based; FastV's K)."),
    bricks::param_float("keep_ratio", 0.5, 0.0, 1.0,
                        "Share of prunable tokens kept, those with the most text attention."),
};
const char* const kRequires[] = {BRICKS_CAP_ATTENTION_SCORES};

}  // namespace

BRICKS_PLUGIN("bricks_pruning_fastv", "1.0.0", "Apache-2.0",
              bricks::describe<FastV>("fastv", "1.0.0",
                                      "FastV: keep a fixed share of image tokens after layer K "
                                      "by the attention text gives them.")
                  .params(kParams)
                  .requires_caps(kRequires))
