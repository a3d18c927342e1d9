// kv conformance: allocation, page tables, slots, release, all-or-nothing failure.
#include <map>
#include <random>

#include "kv_fixture.h"

namespace bricks::testing {
namespace {

using KvBlocks = KvBrickTest;

TEST_P(KvBlocks, ConfigureReportsAnEmptyPool) {
  const bricks_kv_stats s = stats();
  EXPECT_EQ(s.num_device_blocks, 64);
  EXPECT_EQ(s.free_device_blocks, 64);
  EXPECT_EQ(s.prefix_hit_tokens, 0);
}

TEST_P(KvBlocks, PageTableLengthsAndSlots) {
  KvReq a{1, token_range(100, 3 * bs_ + 1)};
  ASSERT_TRUE(alloc(a, 0, 3 * bs_ + 1));
  EXPECT_EQ(stats().free_device_blocks, 64 - 4);

  KvReq b{2, token_range(900, bs_)};
  ASSERT_TRUE(alloc(b, 0, bs_));
  const bricks_kv_seq seqs[] = {{1, 3 * bs_ + 1, 3 * bs_ + 1}, {2, bs_, 2}};
  std::vector<int32_t> slots(static_cast<size_t>(3 * bs_ + 1 + 2), -1);
  bricks_page_table t{};
  ASSERT_EQ(take_error(vt_->build_page_table(kv_->instance(), 0, seqs, 2, &t, slots.data())), "");
  ASSERT_EQ(t.batch, 2);
  EXPECT_EQ(t.page_size, bs_);
  EXPECT_EQ(t.indptr[0], 0);
  EXPECT_EQ(t.indptr[1], 4);
  EXPECT_EQ(t.indptr[2], 5);
  EXPECT_EQ(t.last_page_len[0], 1);
  EXPECT_EQ(t.last_page_len[1], bs_);
  size_t s = 0;
  for (int32_t b = 0; b < 2; ++b) {
    for (int32_t pos = seqs[b].kv_len - seqs[b].num_new; pos < seqs[b].kv_len; ++pos, ++s) {
      EXPECT_EQ(slots[s], t.indices[t.indptr[b] + pos / bs_] * bs_ + pos % bs_)
          << "sequence " << b << " position " << pos;
    }
  }
}

TEST_P(KvBlocks, GrowingKeepsEarlierPages) {
  KvReq a{1, token_range(100, 2 * bs_)};
  ASSERT_TRUE(fill(a));
  const std::vector<int32_t> before = pages(1, 2 * bs_);
  ASSERT_EQ(before.size(), 2u);
  a.tokens.push_back(7);  // one decode token crosses into a third block
  ASSERT_TRUE(alloc(a, 0, 1));
  const std::vector<int32_t> after = pages(1, 2 * bs_ + 1);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));
  // Reserving what is already held takes nothing more.
  const int32_t free_now = stats().free_device_blocks;
  ASSERT_TRUE(alloc(a, 0, 1));
  EXPECT_EQ(stats().free_device_blocks, free_now);
}

TEST_P(KvBlocks, LiveRequestsNeverShareBlocksOfDifferentTokens) {
  std::mt19937 rng(7);
  std::map<int32_t, uint64_t> owner;
  uint64_t id = 1;
  for (;; ++id) {
    const int32_t len = std::uniform_int_distribution<int32_t>(1, 3 * bs_)(rng);
    KvReq r{id, token_range(static_cast<int32_t>(id) * 10000, len)};
    if (!fill(r)) break;
    for (int32_t b : pages(id, len)) {
      ASSERT_TRUE(b >= 0 && b < 64) << "block id " << b << " outside the pool";
      const auto [it, fresh] = owner.emplace(b, id);
      EXPECT_TRUE(fresh) << "block " << b << " held by requests " << it->second << " and " << id;
    }
  }
  EXPECT_GT(owner.size(), 50u) << "the pool should be nearly full before allocation fails";
  EXPECT_EQ(stats().free_device_blocks, 64 - static_cast<int32_t>(owner.size()));
}

TEST_P(KvBlocks, FailedAllocationChangesNothing) {
  KvReq big{1, token_range(100, 63 * bs_)};
  ASSERT_TRUE(fill(big));
  KvReq small{2, token_range(90000, bs_ + 1)};
  const bricks_kv_stats before = stats();
  const std::vector<int32_t> table = pages(1, 63 * bs_);
  EXPECT_FALSE(alloc(small, 0, bs_ + 1));  // needs 2 blocks, 1 is free
  const bricks_kv_stats after = stats();
  EXPECT_EQ(after.free_device_blocks, before.free_device_blocks);
  EXPECT_EQ(pages(1, 63 * bs_), table);
  std::string err;
  EXPECT_TRUE(pages(2, 1, &err).empty());
  EXPECT_NE(err, "") << "a failed allocation must not leave blocks behind";
  // Growing an existing request past the pool fails the same way.
  big.tokens.resize(static_cast<size_t>(64 * bs_ + 1), 5);
  EXPECT_FALSE(alloc(big, 0, bs_ + 1));
  EXPECT_EQ(pages(1, 63 * bs_), table);
  small.tokens.resize(static_cast<size_t>(bs_));
  EXPECT_TRUE(alloc(small, 0, bs_));  // exactly the last block
  EXPECT_EQ(stats().free_device_blocks, 0);
}

TEST_P(KvBlocks, EveryBlockFreeAfterAllRequestsEnd) {
  std::vector<KvReq> reqs;
  for (uint64_t id = 1; id <= 10; ++id) {
    reqs.push_back({id, token_range(static_cast<int32_t>(id % 3) * 1000, 2 * bs_ + 3)});
    ASSERT_TRUE(fill(reqs.back(), reqs.size() > 3 ? lookup(reqs.back()) : 0));
  }
  release(12345);  // unknown ids are ignored
  for (const auto& r : reqs) release(r.id);
  release(1);  // and so is a second release
  EXPECT_EQ(stats().free_device_blocks, 64);
  for (const auto& r : reqs) {
    std::string err;
    EXPECT_TRUE(pages(r.id, 1, &err).empty());
    EXPECT_NE(err, "");
  }
}

TEST_P(KvBlocks, GroupsHaveTheirOwnTables) {
  ASSERT_NO_FATAL_FAILURE(make(64, 0, 2));
  KvReq a{1, token_range(100, 2 * bs_)};
  ASSERT_TRUE(alloc(a, 0, 2 * bs_, 0));
  ASSERT_TRUE(alloc(a, 0, bs_, 1));
  const std::vector<int32_t> g0 = pages(1, 2 * bs_, nullptr, 0);
  const std::vector<int32_t> g1 = pages(1, bs_, nullptr, 1);
  ASSERT_EQ(g0.size(), 2u);
  ASSERT_EQ(g1.size(), 1u);
  EXPECT_EQ(std::find(g0.begin(), g0.end(), g1[0]), g0.end());
  std::string err;
  pages(1, 2 * bs_, &err, 1);
  EXPECT_NE(err, "") << "group 1 holds one block only";
  pages(1, 1, &err, 2);
  EXPECT_NE(err, "") << "group 2 does not exist";
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 64);
}

TEST_P(KvBlocks, MisuseIsAnErrorNotACrash) {
  bricks_kv_seq seq{77, 1, 1};
  bricks_page_table t{};
  int32_t slot = 0;
  EXPECT_NE(take_error(vt_->build_page_table(kv_->instance(), 0, &seq, 1, &t, &slot)), "");
  KvReq a{1, token_range(100, bs_)};
  ASSERT_TRUE(alloc(a, 0, bs_));
  seq = {1, bs_ + 1, 1};  // more tokens than allocated
  EXPECT_NE(take_error(vt_->build_page_table(kv_->instance(), 0, &seq, 1, &t, &slot)), "");
  int32_t ok = -1;
  const bricks_request_view v = a.view();
  EXPECT_NE(take_error(vt_->allocate(kv_->instance(), &v, 5, 0, 1, &ok)), "");
  bricks_kv_geometry g{sizeof(bricks_kv_geometry), 8, 0, 0, 1, 1};
  EXPECT_NE(take_error(vt_->configure(kv_->instance(), &g)), "") << "configure twice";
}

INSTANTIATE_TEST_SUITE_P(Kv, KvBlocks, ::testing::ValuesIn(kv_cases()), brick_case_label);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KvBlocks);

}  // namespace
}  // namespace bricks::testing
