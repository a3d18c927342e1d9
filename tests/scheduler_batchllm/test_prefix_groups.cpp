// scheduler/batchllm: global prefix identification (the single-level grouping rule) and the
// decode-ratio order, on plain request views.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "prefix_groups.h"

namespace bricks::batchllm {
namespace {

constexpr int32_t kBs = 4;

// Requests as views over token vectors the fixture owns.
class Grouping : public ::testing::Test {
 protected:
  // A prompt of `shared` tokens from `family` followed by `own` tokens unique to the request.
  void add(int32_t family, int32_t shared, int32_t own, int32_t max_new = 8) {
    std::vector<int32_t> t;
    for (int32_t i = 0; i < shared; ++i) t.push_back(family * 1000 + i);
    const int32_t unique = static_cast<int32_t>(prompts_.size() + 1) * 100000;
    for (int32_t i = 0; i < own; ++i) t.push_back(unique + i);
    prompts_.push_back(std::move(t));
    max_new_.push_back(max_new);
  }
  // Adds a prompt given token by token.
  void add_tokens(std::vector<int32_t> t, int32_t max_new = 8) {
    prompts_.push_back(std::move(t));
    max_new_.push_back(max_new);
  }
  void build(GroupingRule rule = {kBs, 2, 1}) {
    views_.clear();
    for (size_t i = 0; i < prompts_.size(); ++i) {
      bricks_request_view v{};
      v.id = 100 + i;
      v.prompt_len = static_cast<int32_t>(prompts_[i].size());
      v.num_tokens = v.prompt_len;
      v.max_new_tokens = max_new_[i];
      v.tokens = prompts_[i].data();
      views_.push_back(v);
    }
    grouper_ = PrefixGrouper(rule);
    grouper_.build(views_.data(), static_cast<int32_t>(views_.size()));
  }
  // Shared prefix tokens of each request's group, by request id.
  std::map<uint64_t, int32_t> prefix_by_id() const {
    std::map<uint64_t, int32_t> out;
    for (const PrefixGroup& g : grouper_.groups()) {
      for (uint64_t id : g.members) out[id] = g.prefix_tokens;
    }
    return out;
  }
  int32_t group(uint64_t id) const { return grouper_.find(id)->group; }

  std::vector<std::vector<int32_t>> prompts_;
  std::vector<int32_t> max_new_;
  std::vector<bricks_request_view> views_;
  PrefixGrouper grouper_{GroupingRule{}};
};

TEST_F(Grouping, RequestsSharingABlockOrMoreFormGroups) {
  add(1, 12, 5);  // 100
  add(2, 8, 3);   // 101
  add(1, 12, 2);  // 102
  add(3, 3, 9);   // 103: shares less than a block with 104
  add(2, 8, 7);   // 104
  add(1, 12, 9);  // 105
  add(3, 3, 1);   // 106
  build();
  EXPECT_EQ(group(100), group(102));
  EXPECT_EQ(group(100), group(105));
  EXPECT_EQ(group(101), group(104));
  EXPECT_NE(group(100), group(101));
  EXPECT_NE(group(103), group(106));
  const std::map<uint64_t, int32_t> prefix = prefix_by_id();
  EXPECT_EQ(prefix.at(100), 12);
  EXPECT_EQ(prefix.at(101), 8);
  EXPECT_EQ(prefix.at(103), 0);
  EXPECT_EQ(prefix.at(106), 0);
  EXPECT_EQ(grouper_.groups().size(), 4u);  // two groups and two requests alone
}

TEST_F(Grouping, OnlyWholeBlocksThatALookupCouldReturnCount) {
  // Identical 8-token prompts: the last token is always computed, so only block 0 is shared.
  add_tokens({1, 2, 3, 4, 5, 6, 7, 8});
  add_tokens({1, 2, 3, 4, 5, 6, 7, 8});
  build();
  ASSERT_EQ(grouper_.groups().size(), 1u);
  EXPECT_EQ(grouper_.groups()[0].prefix_tokens, 4);
}

TEST_F(Grouping, NestedPrefixesBecomeOneLevelThatSavesMost) {
  // Family 1's first 8 tokens are shared by five requests; three of them share 24 tokens.
  // Grouping the three deep ones saves (3-1)*6 = 12 blocks, the five shallow ones
  // (5-1)*2 = 8: the deep group wins and the other two go alone.
  for (int i = 0; i < 3; ++i) add(1, 24, 3);
  add(1, 8, 3);
  add(1, 8, 5);
  build();
  std::map<uint64_t, int32_t> prefix = prefix_by_id();
  EXPECT_EQ(prefix.at(100), 24);
  EXPECT_EQ(prefix.at(101), 24);
  EXPECT_EQ(prefix.at(102), 24);
  // 103 and 104 still share 8 tokens of family 1 with each other: a group of their own.
  EXPECT_EQ(prefix.at(103), 8);
  EXPECT_EQ(group(103), group(104));

  // Two sharing 6 blocks inside four sharing 5: one group of four at 5 blocks saves
  // (4-1)*5 = 15, more than the pair at 6 plus the other two at 5, 1*6 + 1*5 = 11.
  prompts_.clear();
  max_new_.clear();
  for (int i = 0; i < 2; ++i) add(1, 24, 3);
  for (int i = 0; i < 2; ++i) add(1, 20, 3);
  build();
  prefix = prefix_by_id();
  for (uint64_t id = 100; id < 104; ++id) {
    EXPECT_EQ(prefix.at(id), 20) << id;
    EXPECT_EQ(group(id), group(100)) << id;
  }
}

TEST_F(Grouping, RuleThresholdsAreRespected) {
  add(1, 8, 3);
  add(1, 8, 3);
  add(2, 16, 3);
  add(2, 16, 3);
  add(2, 16, 3);
  build({kBs, 3, 1});  // groups need three requests
  std::map<uint64_t, int32_t> prefix = prefix_by_id();
  EXPECT_EQ(prefix.at(100), 0);
  EXPECT_EQ(prefix.at(102), 16);
  build({kBs, 2, 3});  // and prefixes of three blocks
  prefix = prefix_by_id();
  EXPECT_EQ(prefix.at(100), 0);
  EXPECT_EQ(prefix.at(102), 16);
}

TEST_F(Grouping, DecodeHeavyGroupsAndMembersComeFirst) {
  add(1, 8, 4, 2);    // 100: ratio 2/12
  add(2, 8, 4, 24);   // 101: ratio 2
  add(1, 8, 4, 36);   // 102: ratio 3, group 1's leader
  add(3, 0, 10, 10);  // 103: alone, ratio 1
  add(2, 8, 4, 12);   // 104: ratio 1
  build();
  std::vector<uint64_t> order(views_.size());
  for (const auto& v : views_) order[static_cast<size_t>(grouper_.find(v.id)->rank)] = v.id;
  // Group 1 (best ratio 3) first, leader 102; then group 2 (ratio 2); then 103 alone.
  EXPECT_EQ(order, (std::vector<uint64_t>{102, 100, 101, 104, 103}));
  EXPECT_EQ(grouper_.groups()[static_cast<size_t>(group(102))].members.front(), 102u);
}

TEST_F(Grouping, ABuildReplacesTheLastAndEmptyInputIsFine) {
  add(1, 8, 3);
  add(1, 8, 3);
  build();
  const uint64_t gen = grouper_.generation();
  grouper_.build(views_.data(), 1);
  EXPECT_EQ(grouper_.generation(), gen + 1);
  EXPECT_NE(grouper_.find(100), nullptr);
  EXPECT_EQ(grouper_.find(101), nullptr);
  grouper_.build(nullptr, 0);
  EXPECT_TRUE(grouper_.groups().empty());
  EXPECT_EQ(grouper_.find(100), nullptr);
}

}  // namespace
}  // namespace bricks::batchllm
