// pruning/atp's own rules (plugins/pruning/atp/atp_rule.h), through the brick boundary:
// adaptive thresholds, bounds, spatial coverage, self-attention redundancy, layers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

// A request of `w` x `h` patches followed by one text token; scores as given.
struct Image {
  std::vector<uint8_t> prunable;
  std::vector<int32_t> grid_xy;
  std::vector<float> text;
  std::vector<float> self;
  bricks_prune_input in{};
};

Image make_image(int32_t w, int32_t h, std::vector<float> patch_scores) {
  Image im;
  const int32_t n = w * h;
  for (int32_t i = 0; i < n; ++i) {
    im.prunable.push_back(1);
    im.grid_xy.push_back(i % w);
    im.grid_xy.push_back(i / w);
  }
  im.prunable.push_back(0);
  im.grid_xy.push_back(-1);
  im.grid_xy.push_back(-1);
  im.text = std::move(patch_scores);
  im.text.push_back(0.0f);
  im.in.struct_size = sizeof(im.in);
  im.in.layer = 2;
  im.in.num_layers = 12;
  im.in.num_tokens = n + 1;
  im.in.prunable = im.prunable.data();
  im.in.grid_xy = im.grid_xy.data();
  im.in.grid_w = w;
  im.in.grid_h = h;
  im.in.text_scores = im.text.data();
  return im;
}

std::vector<int32_t> run(const HarnessBrick& b, const bricks_prune_input& in) {
  bricks_keep_set keep{nullptr, -1};
  EXPECT_EQ(take_error(b.vt<bricks_pruning_vtable>()->select(b.instance(), &in, &keep)), "");
  return keep.num_keep < 0 ? std::vector<int32_t>{}
                           : std::vector<int32_t>(keep.keep, keep.keep + keep.num_keep);
}

int32_t patches_kept(const std::vector<int32_t>& keep, const Image& im) {
  int32_t n = 0;
  for (int32_t t : keep) n += im.prunable[static_cast<size_t>(t)];
  return n;
}

std::vector<float> noise(int32_t n, uint32_t seed) {
  std::vector<float> v;
  uint32_t x = seed;
  for (int32_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    v.push_back(static_cast<float>(x >> 8) / static_cast<float>(1 << 24));
  }
  return v;
}

TEST(Atp, ThresholdAdaptsToTheSpreadOfScores) {
  auto brick = create_brick(
      BRICKS_KIND_PRUNING, "atp",
      {float_param("target_keep", 0.5), float_param("min_keep", 0.0), int_param("cell", 0)});
  ASSERT_TRUE(brick);
  // Peaked: three patches take nearly all the attention; the rest are alike.
  std::vector<float> peaked(64, 0.01f);
  peaked[5] = peaked[20] = peaked[41] = 1.0f;
  Image p = make_image(8, 8, peaked);
  const auto kp = run(*brick, p.in);
  EXPECT_EQ(kp, (std::vector<int32_t>{5, 20, 41, 64}));
  // Spread: about half lies above the mean.
  Image f = make_image(8, 8, noise(64, 3));
  const int32_t kept_flat = patches_kept(run(*brick, f.in), f);
  EXPECT_GT(kept_flat, 20);
  EXPECT_LT(kept_flat, 44);
}

TEST(Atp, BoundsClampTheCount) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "atp",
                            {float_param("target_keep", 0.5), float_param("min_keep", 0.25),
                             float_param("max_keep", 0.25), int_param("cell", 0)});
  ASSERT_TRUE(brick);
  for (uint32_t seed : {1u, 2u, 3u}) {
    Image im = make_image(8, 8, noise(64, seed));
    EXPECT_EQ(patches_kept(run(*brick, im.in), im), 16) << "seed " << seed;
  }
  // A peaked image would keep 3 by its threshold; min_keep lifts it to 16.
  std::vector<float> peaked(64, 0.01f);
  peaked[0] = peaked[1] = peaked[2] = 1.0f;
  Image im = make_image(8, 8, peaked);
  EXPECT_EQ(patches_kept(run(*brick, im.in), im), 16);
}

TEST(Atp, SpatialCoverageKeepsAPatchInEveryCell) {
  auto brick = create_brick(
      BRICKS_KIND_PRUNING, "atp",
      {float_param("target_keep", 0.1), float_param("min_keep", 0.0), int_param("cell", 2)});
  ASSERT_TRUE(brick);
  // All the text attention on the top-left corner.
  std::vector<float> scores(48, 0.0f);
  scores[0] = 5.0f;
  scores[1] = 4.0f;
  scores[8] = 3.0f;
  for (size_t i = 0; i < scores.size(); ++i) scores[i] += 0.001f * static_cast<float>(i % 5);
  Image im = make_image(8, 6, scores);
  const auto keep = run(*brick, im.in);
  std::set<int32_t> cells;
  for (int32_t t : keep) {
    if (im.prunable[static_cast<size_t>(t)] == 0) continue;
    cells.insert((t / 8) / 2 * 4 + (t % 8) / 2);
  }
  EXPECT_EQ(cells.size(), 12u) << "4 x 3 cells of 2 x 2 patches";
  EXPECT_TRUE(std::binary_search(keep.begin(), keep.end(), 0));
  // Without coverage the corner alone survives.
  auto plain = create_brick(
      BRICKS_KIND_PRUNING, "atp",
      {float_param("target_keep", 0.1), float_param("min_keep", 0.0), int_param("cell", 0)});
  ASSERT_TRUE(plain);
  EXPECT_LT(patches_kept(run(*plain, im.in), im), 6);
}

TEST(Atp, SelfAttentionMarksRedundantPatches) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "atp",
                            {float_param("target_keep", 0.25), float_param("min_keep", 0.0),
                             float_param("text_weight", 0.0), int_param("cell", 0)});
  ASSERT_TRUE(brick);
  // Text says nothing; every patch attends to patches 3 and 9, so the others are redundant.
  Image im = make_image(4, 4, std::vector<float>(16, 0.5f));
  im.self.assign(16 * 16, 0.0f);
  for (int32_t i = 0; i < 16; ++i) {
    im.self[static_cast<size_t>(i * 16 + 3)] = 0.5f;
    im.self[static_cast<size_t>(i * 16 + 9)] = 0.5f;
  }
  im.in.self_scores = im.self.data();
  EXPECT_EQ(run(*brick, im.in), (std::vector<int32_t>{3, 9, 16}));
}

TEST(Atp, StrideAddsPruningLayersBeforeTheLast) {
  auto brick =
      create_brick(BRICKS_KIND_PRUNING, "atp", {int_param("layer", 2), int_param("stride", 3)});
  ASSERT_TRUE(brick);
  const auto* vt = brick->vt<bricks_pruning_vtable>();
  std::vector<int32_t> layers;
  for (int32_t l = 0; l < 12; ++l) {
    if (vt->prunes_after(brick->instance(), l, 12) != 0) layers.push_back(l);
  }
  EXPECT_EQ(layers, (std::vector<int32_t>{2, 5, 8}));
  EXPECT_EQ(vt->prunes_after(brick->instance(), 11, 12), 0);
}

TEST(Atp, AsksForSelfScoresAndAttentionScores) {
  auto brick = create_brick(BRICKS_KIND_PRUNING, "atp");
  ASSERT_TRUE(brick);
  const bricks_brick_desc& d = brick->desc();
  ASSERT_EQ(d.num_requires, 1);
  EXPECT_STREQ(d.requires_[0], "attention.scores");
  bool self = false;
  for (int32_t i = 0; i < d.num_params; ++i) {
    if (std::string(d.params[i].name) == "self_scores") self = d.params[i].default_value.i != 0;
  }
  EXPECT_TRUE(self);
}

}  // namespace
}  // namespace bricks::testing
