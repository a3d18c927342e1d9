// Pruning conformance: whatever a pruning brick in pruning_cases() decides, its keep set is
// a valid answer (ascending, unique, in range, every non-prunable token kept) and the same
// for the same input, an input without prunable tokens keeps everything, and prunes_after
// answers 0 or 1, 1 only at the configured layer where the case knows it. Where the case
// names the param that sets the share of prunable tokens kept, that share is checked too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "brick_harness.h"
#include "prune_request.h"
#include "pruning_conformance.h"

namespace bricks::testing {
namespace {

class PruningConformance : public ::testing::TestWithParam<PruningCase> {
 protected:
  const PruningCase& c() const { return GetParam(); }
  // The brick at the case's params.
  std::unique_ptr<HarnessBrick> make() const {
    return create_brick(BRICKS_KIND_PRUNING, c().name, c().params);
  }
  // The brick keeping `ratio` of the prunable tokens; needs a case with a ratio param.
  std::unique_ptr<HarnessBrick> make(double ratio) const {
    return create_brick(BRICKS_KIND_PRUNING, c().name,
                        with_params(c().params, {float_param(c().ratio_param, ratio)}));
  }
  bool knows_ratio() const { return !c().ratio_param.empty(); }
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
  auto brick = make();
  ASSERT_TRUE(brick);
  const auto* vt = brick->vt<bricks_pruning_vtable>();
  for (int32_t layer = 0; layer < 32; ++layer) {
    const int32_t answer = vt->prunes_after(brick->instance(), layer, 32);
    EXPECT_TRUE(answer == 0 || answer == 1) << "layer " << layer << ": " << answer;
    EXPECT_EQ(vt->prunes_after(brick->instance(), layer, 32), answer) << "asked twice";
    if (c().prune_layer >= 0) {
      EXPECT_EQ(answer, layer == c().prune_layer ? 1 : 0) << "layer " << layer;
    }
  }
}

TEST_P(PruningConformance, KeepSetsAreValidAndRepeatable) {
  auto brick = make();
  ASSERT_TRUE(brick);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto r = make_request(5, 6, 4, 7, seed, /*tied_scores=*/seed == 6);
    const std::vector<int32_t> keep = select(*brick, r->input);
    expect_valid(keep, *r);
    EXPECT_EQ(select(*brick, r->input), keep) << "seed " << seed << ": same input, other answer";
  }
}

TEST_P(PruningConformance, KeepSetsRespectTheRatio) {
  if (!knows_ratio()) GTEST_SKIP() << "the case names no param that sets the share kept";
  std::vector<int32_t> previous(6, -1);  // by seed: kept at the previous (lower) ratio
  for (double ratio : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    auto brick = make(ratio);
    ASSERT_TRUE(brick);
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      auto r = make_request(5, 6, 4, 7, seed);
      const std::vector<int32_t> keep = select(*brick, r->input);
      expect_valid(keep, *r);
      const int32_t kept = prunable_kept(keep, *r);
      if (c().ratio_slack == 0.0) {
        EXPECT_EQ(kept, std::lround(ratio * 24)) << "ratio " << ratio;
      } else {
        EXPECT_LE(std::abs(kept - ratio * 24), c().ratio_slack * 24) << "ratio " << ratio;
      }
      EXPECT_GE(kept, previous[seed]) << "a higher ratio kept fewer, ratio " << ratio;
      previous[seed] = kept;
    }
  }
}

TEST_P(PruningConformance, FullKeepIsIdentity) {
  if (!knows_ratio()) GTEST_SKIP() << "the case names no param that sets the share kept";
  auto brick = make(1.0);
  ASSERT_TRUE(brick);
  auto r = make_request(3, 5, 5, 4, 11);
  std::vector<int32_t> all(static_cast<size_t>(r->input.num_tokens));
  for (int32_t i = 0; i < r->input.num_tokens; ++i) all[i] = i;
  EXPECT_EQ(select(*brick, r->input), all);
}

TEST_P(PruningConformance, NoImageKeepsEverything) {
  auto brick = c().ratio_param.empty() ? make() : make(0.3);
  ASSERT_TRUE(brick);
  auto r = make_request(9, 0, 0, 0, 2);
  EXPECT_EQ(select(*brick, r->input), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  auto empty = make_request(0, 0, 0, 0, 3);
  EXPECT_TRUE(select(*brick, empty->input).empty());
}

INSTANTIATE_TEST_SUITE_P(All, PruningConformance, ::testing::ValuesIn(pruning_cases()),
                         [](const ::testing::TestParamInfo<PruningCase>& info) {
                           return info.param.label;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PruningConformance);

}  // namespace
}  // namespace bricks::testing
