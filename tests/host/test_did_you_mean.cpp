#include "host/did_you_mean.h"

#include <gtest/gtest.h>

namespace bricks::host {
namespace {

const std::vector<std::string> kNames = {"fcfs",       "sarathi",      "splitfuse",
                                         "fastswitch", "max_num_seqs", "max_num_batched_tokens"};

TEST(DidYouMean, SuggestsTheClosestNameForATypo) {
  EXPECT_EQ(closest_match("sarathy", kNames), "sarathi");
  EXPECT_EQ(closest_match("fcsf", kNames), "fcfs");
  EXPECT_EQ(closest_match("max_num_seq", kNames), "max_num_seqs");
  EXPECT_EQ(closest_match("SPLITFUSE", kNames), "splitfuse");
}

TEST(DidYouMean, SuggestsANameThePrefixStarts) {
  EXPECT_EQ(closest_match("fastsw", kNames), "fastswitch");
}

TEST(DidYouMean, SuggestsNothingForUnrelatedWords) {
  EXPECT_EQ(closest_match("paged", kNames), std::nullopt);
  EXPECT_EQ(closest_match("", kNames), std::nullopt);
  EXPECT_EQ(closest_match("fcfs", {}), std::nullopt);
}

TEST(DidYouMean, FindsCloseNamesOnlyAndCountsEdits) {
  const std::vector<std::string> params = {"max_num_seqs", "max_num_batched_tokens", "preemption"};
  EXPECT_EQ(closest_match("max_num_seq", params), "max_num_seqs");
  EXPECT_EQ(closest_match("MAX_NUM_SEQS", params), "max_num_seqs");
  EXPECT_EQ(closest_match("premeption", params), "preemption");  // swapped neighbours
  EXPECT_EQ(closest_match("block_size", params), std::nullopt);
  EXPECT_EQ(closest_match("pruner", {"scheduler", "pruning", "router"}), "pruning");
  EXPECT_EQ(closest_match("gpu", {"cpu", "sim"}), "cpu");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("ab", "ba"), 1);
  EXPECT_EQ(suggest("zzz", {"a", "b"}), "one of: a, b");
  EXPECT_EQ(suggest("zzz", {}, "none"), "none");
}

TEST(DidYouMean, SuffixIsReadyToAppend) {
  EXPECT_EQ(did_you_mean_suffix("sarathy", kNames), " (did you mean 'sarathi'?)");
  EXPECT_EQ(did_you_mean_suffix("zzz", kNames), "");
}

}  // namespace
}  // namespace bricks::host
