// kv conformance: prefix cache ("kv.prefix_cache") and swap to the host tier ("kv.swap").
#include <numeric>

#include "kv_fixture.h"

namespace bricks::testing {
namespace {

class KvPrefix : public KvBrickTest {
 protected:
  void SetUp() override {
    KvBrickTest::SetUp();
    if (!provides("kv.prefix_cache")) GTEST_SKIP() << GetParam().name << " has no prefix cache";
  }
};

TEST_P(KvPrefix, IdenticalPrefixGetsIdenticalBlocks) {
  KvReq a{1, token_range(100, 5 * bs_ + 1)};
  ASSERT_TRUE(fill(a));
  KvReq b{2, a.tokens};
  const int32_t hit = lookup(b);
  EXPECT_EQ(hit, 5 * bs_);
  const int32_t free_before = stats().free_device_blocks;
  ASSERT_TRUE(alloc(b, hit, 1));
  EXPECT_EQ(stats().free_device_blocks, free_before - 1) << "shared blocks are not taken again";
  const std::vector<int32_t> pa = pages(1, 5 * bs_ + 1);
  const std::vector<int32_t> pb = pages(2, 5 * bs_ + 1);
  ASSERT_EQ(pb.size(), 6u);
  EXPECT_TRUE(std::equal(pa.begin(), pa.begin() + 5, pb.begin()));
  EXPECT_NE(pa[5], pb[5]) << "the partial last block is never shared";
  // Reference counts: the shared blocks stay held while either request lives.
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 64 - 6);
  release(2);
  EXPECT_EQ(stats().free_device_blocks, 64);
  const bricks_kv_stats s = stats();
  EXPECT_GE(s.prefix_hit_tokens, 5 * bs_);
  EXPECT_GE(s.prefix_query_tokens, s.prefix_hit_tokens);
}

TEST_P(KvPrefix, NeverHitsOnDifferentTokens) {
  KvReq a{1, token_range(100, 4 * bs_ + 1)};
  ASSERT_TRUE(fill(a));
  KvReq b{2, a.tokens};
  b.tokens[static_cast<size_t>(2 * bs_ + 1)] = -5;  // differs inside block 2
  EXPECT_EQ(lookup(b), 2 * bs_);
  KvReq c{3, a.tokens};
  c.tokens[0] = -5;
  EXPECT_EQ(lookup(c), 0);
  // Block 1's tokens as the first block: same content, different prefix.
  KvReq d{4, std::vector<int32_t>(a.tokens.begin() + bs_, a.tokens.end())};
  EXPECT_EQ(lookup(d), 0);
  KvReq e{5, token_range(50000, 4 * bs_ + 1)};
  EXPECT_EQ(lookup(e), 0);
}

TEST_P(KvPrefix, LastTokenIsAlwaysComputed) {
  KvReq a{1, token_range(100, 4 * bs_)};
  ASSERT_TRUE(fill(a));
  KvReq b{2, a.tokens};
  EXPECT_EQ(lookup(b), 3 * bs_);
  KvReq one{3, token_range(100, 1)};
  EXPECT_EQ(lookup(one), 0);
}

TEST_P(KvPrefix, LookupChangesNothingAndOnlyCommittedBlocksHit) {
  KvReq a{1, token_range(100, 4 * bs_ + 1)};
  ASSERT_TRUE(alloc(a, 0, 4 * bs_ + 1));
  KvReq b{2, a.tokens};
  EXPECT_EQ(lookup(b), 0) << "nothing is committed yet";
  a.num_computed = 2 * bs_ + 3;
  commit(a);
  const bricks_kv_stats before = stats();
  EXPECT_EQ(lookup(b), 2 * bs_);
  EXPECT_EQ(lookup(b), 2 * bs_);
  const bricks_kv_stats after = stats();
  EXPECT_EQ(after.free_device_blocks, before.free_device_blocks);
}

TEST_P(KvPrefix, CachedBlocksOutliveTheirRequestUntilEvicted) {
  KvReq a{1, token_range(100, 3 * bs_ + 1)};
  ASSERT_TRUE(fill(a));
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 64) << "cached blocks count as free";
  KvReq b{2, a.tokens};
  EXPECT_EQ(lookup(b), 3 * bs_);
  // Using the whole pool for other tokens evicts them.
  KvReq filler{3, token_range(70000, 64 * bs_)};
  ASSERT_TRUE(alloc(filler, 0, 64 * bs_));
  EXPECT_EQ(lookup(b), 0);
  release(3);
  EXPECT_EQ(stats().free_device_blocks, 64);
}

TEST_P(KvPrefix, AllocateWithCachedTakesEvenTheLastFreeBlocks) {
  KvReq a{1, token_range(100, 2 * bs_ + 1)};
  ASSERT_TRUE(fill(a));
  release(1);
  KvReq filler{2, token_range(70000, 61 * bs_)};  // leaves a's 2 cached blocks + 1
  ASSERT_TRUE(alloc(filler, 0, 61 * bs_));
  KvReq b{3, a.tokens};
  const int32_t hit = lookup(b);
  if (hit != 2 * bs_) GTEST_SKIP() << GetParam().name << " evicted the cached prefix first";
  EXPECT_FALSE(alloc(b, hit, bs_ + 1)) << "needs 2 new blocks beyond the 2 cached; 1 is left";
  EXPECT_EQ(lookup(b), hit) << "a failed allocation must not evict the hit";
  EXPECT_TRUE(alloc(b, hit, 1));
  EXPECT_EQ(stats().free_device_blocks, 0);
}

class KvSwap : public KvBrickTest {
 protected:
  void SetUp() override {
    KvBrickTest::SetUp();
    if (!provides("kv.swap")) GTEST_SKIP() << GetParam().name << " has no swap";
    ASSERT_NE(vt_->swap_out, nullptr);
    ASSERT_NE(vt_->swap_in, nullptr);
    ASSERT_NE(vt_->take_copies, nullptr);
  }
  bool swap(bool out, uint64_t id) {
    int32_t ok = -1;
    EXPECT_EQ(take_error((out ? vt_->swap_out : vt_->swap_in)(kv_->instance(), id, &ok)), "");
    return ok == 1;
  }
};

TEST_P(KvSwap, SwapOutAndInPreservesTheSequence) {
  KvReq a{1, token_range(100, 5 * bs_ + 2)};
  ASSERT_TRUE(fill(a));
  // A token-level picture of both pools, moved by the copies the brick queues.
  std::vector<int32_t> device(static_cast<size_t>(64 * bs_), -1),
      host(static_cast<size_t>(32 * bs_), -1);
  auto write = [&](const KvReq& r) {
    const std::vector<int32_t> p = pages(r.id, static_cast<int32_t>(r.tokens.size()));
    for (size_t t = 0; t < r.tokens.size(); ++t) device[p[t / bs_] * bs_ + t % bs_] = r.tokens[t];
  };
  auto run_copies = [&](bricks_tier from, int32_t expect_blocks) {
    int32_t moved = 0;
    const std::vector<bricks_block_copy> runs = copies();
    EXPECT_FALSE(runs.empty());
    for (const auto& c : runs) {
      EXPECT_EQ(c.src_tier, from);
      EXPECT_EQ(c.dst_tier, from == BRICKS_TIER_DEVICE ? BRICKS_TIER_HOST : BRICKS_TIER_DEVICE);
      auto& src = from == BRICKS_TIER_DEVICE ? device : host;
      auto& dst = from == BRICKS_TIER_DEVICE ? host : device;
      std::copy_n(src.begin() + c.src_block * bs_, c.num_blocks * bs_,
                  dst.begin() + c.dst_block * bs_);
      moved += c.num_blocks;
    }
    EXPECT_EQ(moved, expect_blocks);
    EXPECT_TRUE(copies().empty()) << "copies are handed out once";
  };
  write(a);
  const int32_t blocks = blocks_for(5 * bs_ + 2);
  ASSERT_TRUE(swap(true, 1));
  run_copies(BRICKS_TIER_DEVICE, blocks);
  bricks_kv_stats s = stats();
  EXPECT_EQ(s.free_device_blocks, 64);
  EXPECT_EQ(s.free_host_blocks, 32 - blocks);
  EXPECT_EQ(s.blocks_swapped_out, blocks);
  std::string err;
  EXPECT_TRUE(pages(1, 1, &err).empty());
  EXPECT_NE(err, "") << "a swapped request has no device table";

  // Someone else overwrites the device pool meanwhile.
  KvReq b{2, token_range(80000, 60 * bs_)};
  ASSERT_TRUE(fill(b));
  write(b);
  release(2);

  ASSERT_TRUE(swap(false, 1));
  run_copies(BRICKS_TIER_HOST, blocks);
  s = stats();
  EXPECT_EQ(s.free_host_blocks, 32);
  EXPECT_EQ(s.free_device_blocks, 64 - blocks);
  EXPECT_EQ(s.blocks_swapped_in, blocks);
  const std::vector<int32_t> p = pages(1, 5 * bs_ + 2);
  ASSERT_EQ(static_cast<int32_t>(p.size()), blocks);
  for (size_t t = 0; t < a.tokens.size(); ++t) {
    ASSERT_EQ(device[p[t / bs_] * bs_ + t % bs_], a.tokens[t]) << "token " << t;
  }
  // And it keeps growing as before.
  a.tokens.push_back(3);
  EXPECT_TRUE(alloc(a, 0, 1));
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 64);
}

TEST_P(KvSwap, ContiguousBlocksMoveInFewRuns) {
  KvReq a{1, token_range(100, 8 * bs_)};
  ASSERT_TRUE(fill(a));  // a fresh pool hands out a contiguous range
  ASSERT_TRUE(swap(true, 1));
  const std::vector<bricks_block_copy> runs = copies();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].num_blocks, 8);
  EXPECT_EQ(stats().swap_copies, 1);
}

TEST_P(KvSwap, FullTierRefusesAndChangesNothing) {
  KvReq a{1, token_range(100, 40 * bs_)};  // 40 blocks > 32 host blocks
  ASSERT_TRUE(fill(a));
  const std::vector<int32_t> table = pages(1, 40 * bs_);
  EXPECT_FALSE(swap(true, 1));
  EXPECT_TRUE(copies().empty());
  EXPECT_EQ(pages(1, 40 * bs_), table);
  EXPECT_EQ(stats().free_host_blocks, 32);

  KvReq b{2, token_range(9000, 20 * bs_)};
  ASSERT_TRUE(fill(b));
  ASSERT_TRUE(swap(true, 2));
  (void)copies();
  KvReq c{3, token_range(20000, 24 * bs_)};  // device now has 24 free: fill it
  ASSERT_TRUE(alloc(c, 0, 24 * bs_));
  EXPECT_FALSE(swap(false, 2)) << "device full";
  EXPECT_TRUE(copies().empty());
  release(3);
  EXPECT_TRUE(swap(false, 2));
  release(1);
  release(2);
  const bricks_kv_stats s = stats();
  EXPECT_EQ(s.free_device_blocks, 64);
  EXPECT_EQ(s.free_host_blocks, 32);
}

TEST_P(KvSwap, ReleasingASwappedRequestFreesTheHostTier) {
  KvReq a{1, token_range(100, 3 * bs_)};
  ASSERT_TRUE(fill(a));
  ASSERT_TRUE(swap(true, 1));
  release(1);
  EXPECT_EQ(stats().free_host_blocks, 32);
  EXPECT_EQ(stats().free_device_blocks, 64);
}

INSTANTIATE_TEST_SUITE_P(Kv, KvPrefix, ::testing::ValuesIn(kv_cases()), brick_case_label);
INSTANTIATE_TEST_SUITE_P(Kv, KvSwap, ::testing::ValuesIn(kv_cases()), brick_case_label);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KvPrefix);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KvSwap);

}  // namespace
}  // namespace bricks::testing
