// pruning/fastv's own rule, through the brick boundary: the prunable tokens with the highest
// text scores, ties to the lower index, at the FastV paper's defaults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "brick_harness.h"
#include "prune_request.h"

namespace bricks::testing {
namespace {

TEST(FastV, KeepsHighestTextScoresTiesToLowerIndex) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "fastv", {float_param("keep_ratio", 0.5)});
  ASSERT_TRUE(brick);
  auto r = make_request(2, 3, 2, 1, 5);
  // Tokens 0,1 text; 2..7 patches; 8 text. Patch scores: 0.1 0.9 0.5 0.9 0.2 0.5.
  const float patch_scores[] = {0.1f, 0.9f, 0.5f, 0.9f, 0.2f, 0.5f};
  for (int i = 0; i < 6; ++i) r->text_scores[2 + i] = patch_scores[i];
  // round(0.5 * 6) = 3 kept: the two 0.9s (tokens 3, 5) and the first 0.5 (token 4).
  bricks_keep_set keep{};
  ASSERT_EQ(
      take_error(brick->vt<bricks_pruning_vtable>()->select(brick->instance(), &r->input, &keep)),
      "");
  EXPECT_EQ(std::vector<int32_t>(keep.keep, keep.keep + keep.num_keep),
            (std::vector<int32_t>{0, 1, 3, 4, 5, 8}));
}

TEST(FastV, AllTiedKeepsTheFirstPatches) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "fastv", {float_param("keep_ratio", 0.25)});
  ASSERT_TRUE(brick);
  auto r = make_request(1, 4, 2, 1, 6, /*tied_scores=*/true);
  bricks_keep_set keep{};
  ASSERT_EQ(
      take_error(brick->vt<bricks_pruning_vtable>()->select(brick->instance(), &r->input, &keep)),
      "");
  EXPECT_EQ(std::vector<int32_t>(keep.keep, keep.keep + keep.num_keep),
            (std::vector<int32_t>{0, 1, 2, 9}));
}

TEST(FastV, DefaultsAreFastVPaperSettingsAndItNeedsScores) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "fastv");
  ASSERT_TRUE(brick);
  const auto* vt = brick->vt<bricks_pruning_vtable>();
  EXPECT_EQ(vt->prunes_after(brick->instance(), 2, 32), 1);
  EXPECT_EQ(vt->prunes_after(brick->instance(), 1, 32), 0);
  const bricks_brick_desc& d = brick->desc();
  ASSERT_EQ(d.num_requires, 1);
  EXPECT_STREQ(d.requires_[0], "attention.scores");
  auto r = make_request(1, 2, 2, 1, 7);
  r->input.text_scores = nullptr;
  bricks_keep_set keep{};
  EXPECT_NE(take_error(vt->select(brick->instance(), &r->input, &keep)), "");
}

}  // namespace
}  // namespace bricks::testing
