// Pruning conformance: whatever a pruning brick decides, its keep set is a valid answer
// (ascending, unique, in range, every non-prunable token kept), full keep is the identity,
// and prunes_after follows its configuration. To add a brick: one line in kBricks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

struct BrickUnderTest {
  std::string name;
  int32_t prune_layer;      // the layer its params below make it prune after
  std::string ratio_param;  // the param that sets the share of prunable tokens kept
  // 0: the share is kept exactly (round(ratio * prunable)). An adaptive brick keeps within
  // ratio_slack * prunable of it, and never fewer tokens for a higher ratio.
  double ratio_slack = 0.0;
};

const std::vector<BrickUnderTest>& bricks_under_test() {
  static const std::vector<BrickUnderTest> kBricks = {
      {"fastv", 3, "keep_ratio"},
      {"atp", 3, "target_keep", 0.25},
  };
  return kBricks;
}

// A request: text prefix, an image of grid_w x grid_h patches, text suffix (the queries).
struct Request {
  std::vector<uint8_t> prunable;
  std::vector<int32_t> grid_xy;
  std::vector<float> text_scores;
  std::vector<float> self_scores;
  std::vector<float> hidden;
  int32_t grid_w = 0, grid_h = 0;
  bricks_prune_input input{};
};

std::unique_ptr<Request> make_request(int32_t prefix, int32_t grid_w, int32_t grid_h,
                                      int32_t suffix, uint64_t seed, bool tied_scores = false) {
  auto r = std::make_unique<Request>();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int32_t patches = grid_w * grid_h;
  const int32_t n = prefix + patches + suffix;
  r->grid_w = grid_w;
  r->grid_h = grid_h;
  for (int32_t i = 0; i < n; ++i) {
    const bool patch = i >= prefix && i < prefix + patches;
    r->prunable.push_back(patch ? 1 : 0);
    r->grid_xy.push_back(patch ? (i - prefix) % grid_w : -1);
    r->grid_xy.push_back(patch ? (i - prefix) / grid_w : -1);
    r->text_scores.push_back(tied_scores ? 0.25f : u(rng));
  }
  r->self_scores.resize(static_cast<size_t>(patches) * patches);
  for (auto& s : r->self_scores) s = u(rng) / static_cast<float>(std::max(1, patches));
  const int32_t hidden_dim = 8;
  r->hidden.resize(static_cast<size_t>(n) * hidden_dim);
  for (auto& h : r->hidden) h = u(rng) - 0.5f;
  bricks_prune_input& in = r->input;
  in.struct_size = sizeof(in);
  in.request_id = seed;
  in.layer = 3;
  in.num_layers = 32;
  in.num_tokens = n;
  in.prunable = r->prunable.data();
  in.grid_xy = r->grid_xy.data();
  in.grid_w = grid_w;
  in.grid_h = grid_h;
  in.text_scores = r->text_scores.data();
  in.self_scores = r->self_scores.data();
  in.hidden = r->hidden.data();
  in.hidden_dim = hidden_dim;
  return r;
}

class PruningConformance : public ::testing::TestWithParam<size_t> {
 protected:
  const BrickUnderTest& b() const { return bricks_under_test()[GetParam()]; }
  std::unique_ptr<HarnessBrick> make(double ratio) const {
    return create_brick(BRICKS_KIND_PRUNING, b().name,
                        {int_param("layer", b().prune_layer), float_param(b().ratio_param, ratio)});
  }
  static std::vector<int32_t> select(const HarnessBrick& brick, const bricks_prune_input& in) {
    bricks_keep_set keep{nullptr, -1};
    const std::string err =
        take_error(brick.vt<bricks_pruning_vtable>()->select(brick.instance(), &in, &keep));
    EXPECT_EQ(err, "");
    if (!err.empty() || keep.num_keep < 0) return {};
    return std::vector<int32_t>(keep.keep, keep.keep + keep.num_keep);
  }
};

// The contract of kind_pruning.h, on every keep set.
void expect_valid(const std::vector<int32_t>& keep, const Request& r) {
  for (size_t i = 0; i < keep.size(); ++i) {
    ASSERT_GE(keep[i], 0);
    ASSERT_LT(keep[i], r.input.num_tokens);
    if (i > 0) {
      ASSERT_LT(keep[i - 1], keep[i]) << "not ascending and unique at " << i;
    }
  }
  const std::set<int32_t> kept(keep.begin(), keep.end());
  for (int32_t t = 0; t < r.input.num_tokens; ++t) {
    if (r.prunable[t] == 0) {
      EXPECT_TRUE(kept.count(t)) << "dropped non-prunable token " << t;
    }
  }
}

int32_t prunable_kept(const std::vector<int32_t>& keep, const Request& r) {
  int32_t n = 0;
  for (int32_t t : keep) n += r.prunable[t];
  return n;
}

TEST_P(PruningConformance, PrunesAfterConfiguredLayerOnly) {
  auto brick = make(0.5);
  ASSERT_TRUE(brick);
  const auto* vt = brick->vt<bricks_pruning_vtable>();
  for (int32_t layer = 0; layer < 32; ++layer) {
    EXPECT_EQ(vt->prunes_after(brick->instance(), layer, 32), layer == b().prune_layer ? 1 : 0)
        << "layer " << layer;
  }
}

TEST_P(PruningConformance, KeepSetsAreValidAndRespectTheRatio) {
  std::vector<int32_t> previous(6, -1);  // by seed: kept at the previous (lower) ratio
  for (double ratio : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    auto brick = make(ratio);
    ASSERT_TRUE(brick);
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      auto r = make_request(5, 6, 4, 7, seed);
      const std::vector<int32_t> keep = select(*brick, r->input);
      expect_valid(keep, *r);
      const int32_t kept = prunable_kept(keep, *r);
      if (b().ratio_slack == 0.0) {
        EXPECT_EQ(kept, std::lround(ratio * 24)) << "ratio " << ratio;
      } else {
        EXPECT_LE(std::abs(kept - ratio * 24), b().ratio_slack * 24) << "ratio " << ratio;
      }
      EXPECT_GE(kept, previous[seed]) << "a higher ratio kept fewer, ratio " << ratio;
      previous[seed] = kept;
    }
  }
}

TEST_P(PruningConformance, FullKeepIsIdentity) {
  auto brick = make(1.0);
  ASSERT_TRUE(brick);
  auto r = make_request(3, 5, 5, 4, 11);
  std::vector<int32_t> all(static_cast<size_t>(r->input.num_tokens));
  for (int32_t i = 0; i < r->input.num_tokens; ++i) all[i] = i;
  EXPECT_EQ(select(*brick, r->input), all);
}

TEST_P(PruningConformance, NoImageKeepsEverything) {
  auto brick = make(0.3);
  ASSERT_TRUE(brick);
  auto r = make_request(9, 0, 0, 0, 2);
  EXPECT_EQ(select(*brick, r->input), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  auto empty = make_request(0, 0, 0, 0, 3);
  EXPECT_TRUE(select(*brick, empty->input).empty());
}

INSTANTIATE_TEST_SUITE_P(All, PruningConformance,
                         ::testing::Range<size_t>(0, bricks_under_test().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return bricks_under_test()[info.param].name;
                         });

// fastv's own rule: the prunable tokens with the highest text scores, ties to lower index.
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
