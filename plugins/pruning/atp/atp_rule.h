// The ATP rule as a plain function of scores, so it can be read (and tested) apart from
// the brick boundary.
//
// For the prunable tokens of one request at one layer:
//  1. importance: the attention each receives from the text query rows, over its mean;
//  2. self importance, the inverse of redundancy: the attention each receives from the
//     other image tokens (self_scores), over its mean. A patch no other patch attends to
//     repeats what its neighbours carry; without self_scores this term is left out;
//  3. score = text_weight * importance + (1 - text_weight) * self importance;
//  4. an adaptive threshold from the scores' own statistics, mean + z * std with z the
//     normal quantile of 1 - target_keep: scores spread like a normal keep about
//     target_keep of the tokens; a few dominant tokens (peaked attention) keep fewer, a
//     flat spread keeps more. The count is then clamped to [min_keep, max_keep] shares;
//  5. spatial augmented pruning: each cell x cell square of the patch grid that lost all of
//     its patches gets back its best-scored one, so the kept set still covers the image.
// Non-prunable tokens are always kept. Deterministic; ties go to the lower index.
#pragma once

#include <cstdint>
#include <vector>

#include "bricks/abi.h"

namespace atp {

struct Settings {
  double target_keep = 0.5;
  double min_keep = 0.05;
  double max_keep = 1.0;
  double text_weight = 0.5;
  int32_t cell = 4;  // 0: no spatial coverage
};

// Indices to keep, ascending. `in` follows kind_pruning.h; text_scores must be set,
// self_scores may be null.
std::vector<int32_t> select(const Settings& s, const bricks_prune_input& in);

// The standard normal quantile: x with P(N(0,1) <= x) = p, for p in (0, 1).
double normal_quantile(double p);

}  // namespace atp
