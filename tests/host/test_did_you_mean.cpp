#include "host/did_you_mean.h"

#include <gtest/gtest.h>

namespace bricks::host {
namespace {

const std::vector<std::string> kNames = {"fcfs",       "sarathi",      "splitfuse",
                                         "fastswitch", "max_num_seqs", "max_num_batched_tokens"};

TEST(DidYouMean, SuggestsTheClosestNameForATypo) {
  EXPECT_EQ(did_you_mean("sarathy", kNames), "sarathi");
  EXPECT_EQ(did_you_mean("fcsf", kNames), "fcfs");
  EXPECT_EQ(did_you_mean("max_num_seq", kNames), "max_num_seqs");
  EXPECT_EQ(did_you_mean("SPLITFUSE", kNames), "splitfuse");
}

TEST(DidYouMean, SuggestsANameThePrefixStarts) {
  EXPECT_EQ(did_you_mean("fastsw", kNames), "fastswitch");
}

TEST(DidYouMean, SuggestsNothingForUnrelatedWords) {
  EXPECT_EQ(did_you_mean("paged", kNames), "");
  EXPECT_EQ(did_you_mean("", kNames), "");
  EXPECT_EQ(did_you_mean("fcfs", {}), "");
}

TEST(DidYouMean, SuffixIsReadyToAppend) {
  EXPECT_EQ(did_you_mean_suffix("sarathy", kNames), " (did you mean 'sarathi'?)");
  EXPECT_EQ(did_you_mean_suffix("zzz", kNames), "");
}

}  // namespace
}  // namespace bricks::host
