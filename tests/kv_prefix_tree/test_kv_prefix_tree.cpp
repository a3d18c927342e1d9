// kv/prefix_tree: what goes beyond the kv conformance suite: leaves evicted before the
// prefixes they share, LRU among leaves, duplicates, swap, pins, params.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "kv_fixture.h"

namespace bricks::testing {
namespace {

// Tokens of `blocks` whole blocks of `family` (block i holds family*1000 + i*bs + ...), so
// two requests of one family share exactly the blocks they have in common.
std::vector<int32_t> blocks_of(int32_t family, int32_t first, int32_t count, int32_t bs) {
  return token_range(family * 100000 + first * bs, count * bs);
}

class PrefixTree : public KvBrickTest {
 protected:
  void SetUp() override {}
  void make_tree(int32_t device, int32_t host = 0) {
    kv_ = create_brick(BRICKS_KIND_KV, "prefix_tree", {int_param("block_size", 4)});
    ASSERT_NE(kv_, nullptr);
    vt_ = kv_->vt<bricks_kv_vtable>();
    bs_ = vt_->block_size(kv_->instance());
    bricks_kv_geometry g{sizeof(bricks_kv_geometry), device, host, 0, 2, 1};
    ASSERT_EQ(take_error(vt_->configure(kv_->instance(), &g)), "");
  }
  // A request made of `prefix` followed by `rest`, plus one last token never cached.
  static KvReq req(uint64_t id, std::vector<int32_t> prefix, const std::vector<int32_t>& rest) {
    prefix.insert(prefix.end(), rest.begin(), rest.end());
    prefix.push_back(-static_cast<int32_t>(id));
    return KvReq{id, std::move(prefix)};
  }
  // Allocates `blocks` fresh blocks of never-seen tokens under `id` (forcing evictions).
  void press(uint64_t id, int32_t blocks) {
    KvReq filler{id, token_range(900000 + static_cast<int32_t>(id) * 10000, blocks * bs_)};
    ASSERT_TRUE(alloc(filler, 0, blocks * bs_));
  }
};

TEST_F(PrefixTree, DescriptorDeclaresParamsAndCapabilities) {
  ASSERT_NO_FATAL_FAILURE(make_tree(8));
  const bricks_brick_desc& d = kv_->desc();
  ASSERT_EQ(d.num_params, 1);
  EXPECT_STREQ(d.params[0].name, "block_size");
  EXPECT_TRUE(provides("kv.prefix_cache"));
  EXPECT_TRUE(provides("kv.prefix_tree"));
  EXPECT_TRUE(provides("kv.swap"));
  EXPECT_NONFATAL_FAILURE(
      create_brick(BRICKS_KIND_KV, "prefix_tree", {int_param("block_size", 12)}), "");
}

TEST_F(PrefixTree, ASharedPrefixOutlivesEveryBranchBelowIt) {
  ASSERT_NO_FATAL_FAILURE(make_tree(64));
  const std::vector<int32_t> p = blocks_of(1, 0, 2, bs_);
  KvReq a = req(1, p, blocks_of(2, 0, 2, bs_));  // 4 full blocks + 1 token
  KvReq b = req(2, p, blocks_of(3, 0, 2, bs_));
  ASSERT_TRUE(fill(a));
  ASSERT_TRUE(fill(b, lookup(b)));
  EXPECT_EQ(stats().free_device_blocks, 64 - 5 - 3);
  release(1);
  release(2);
  EXPECT_EQ(stats().free_device_blocks, 64);  // 6 idle nodes + 58 plain blocks
  // Four evictions: both branches go (leaves first), the shared 2 blocks stay.
  ASSERT_NO_FATAL_FAILURE(press(10, 62));
  KvReq c = req(3, p, blocks_of(4, 0, 1, bs_));
  EXPECT_EQ(lookup(c), 2 * bs_);
  EXPECT_EQ(lookup(a), 2 * bs_) << "a's own blocks were evicted before the shared prefix";
  ASSERT_NO_FATAL_FAILURE(press(11, 2));  // the last two free blocks: the prefix itself
  EXPECT_EQ(lookup(c), 0);
}

TEST_F(PrefixTree, LeastRecentlyUsedLeafIsEvictedFirst) {
  ASSERT_NO_FATAL_FAILURE(make_tree(16));
  KvReq a = req(1, blocks_of(1, 0, 3, bs_), {});
  KvReq b = req(2, blocks_of(2, 0, 3, bs_), {});
  ASSERT_TRUE(fill(a));
  ASSERT_TRUE(fill(b));
  release(1);
  release(2);
  // Using a's prefix again makes b's the least recently used.
  KvReq again = req(3, blocks_of(1, 0, 3, bs_), {});
  ASSERT_TRUE(alloc(again, lookup(again), 1));
  release(3);
  ASSERT_NO_FATAL_FAILURE(press(10, 16 - 3));  // evicts exactly 3 blocks
  EXPECT_EQ(lookup(a), 3 * bs_);
  EXPECT_EQ(lookup(b), 0);
}

TEST_F(PrefixTree, DuplicateContentStaysPrivateUntilTheCachedCopyIsEvicted) {
  ASSERT_NO_FATAL_FAILURE(make_tree(16));
  KvReq a = req(1, blocks_of(1, 0, 3, bs_), {});
  KvReq b{2, a.tokens};
  ASSERT_TRUE(fill(a));
  ASSERT_TRUE(fill(b));  // computed again instead of taken from the cache
  const std::vector<int32_t> pb = pages(2, static_cast<int32_t>(b.tokens.size()));
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 16 - 4) << "a's 3 nodes idle, b holds 4 private blocks";
  ASSERT_NO_FATAL_FAILURE(press(10, 12));  // evicts a's nodes
  EXPECT_EQ(lookup(b), 0);
  release(10);
  commit(b);  // b's blocks now join the tree
  KvReq c{3, a.tokens};
  const int32_t hit = lookup(c);
  EXPECT_EQ(hit, 3 * bs_);
  ASSERT_TRUE(alloc(c, hit, 1));
  const std::vector<int32_t> pc = pages(3, static_cast<int32_t>(c.tokens.size()));
  EXPECT_TRUE(std::equal(pb.begin(), pb.begin() + 3, pc.begin()));
}

TEST_F(PrefixTree, ASwappedInRequestRejoinsTheTreeAtItsNextCommit) {
  ASSERT_NO_FATAL_FAILURE(make_tree(16, 16));
  KvReq a = req(1, blocks_of(1, 0, 3, bs_), {});
  ASSERT_TRUE(fill(a));
  int32_t ok = 0;
  ASSERT_EQ(take_error(vt_->swap_out(kv_->instance(), 1, &ok)), "");
  ASSERT_EQ(ok, 1);
  ASSERT_NO_FATAL_FAILURE(press(10, 16));  // evicts a's idle nodes
  EXPECT_EQ(lookup(a), 0);
  release(10);
  ASSERT_EQ(take_error(vt_->swap_in(kv_->instance(), 1, &ok)), "");
  ASSERT_EQ(ok, 1);
  commit(a);
  EXPECT_EQ(lookup(KvReq{2, a.tokens}), 3 * bs_);
  release(1);
  EXPECT_EQ(stats().free_device_blocks, 16);
}

TEST_F(PrefixTree, HoldingAPrefixUnderAnIdOfItsOwnPinsIt) {
  ASSERT_NO_FATAL_FAILURE(make_tree(16));
  KvReq a = req(1, blocks_of(1, 0, 3, bs_), blocks_of(5, 0, 2, bs_));
  ASSERT_TRUE(fill(a));
  release(1);
  // The pin: the 3-block prefix plus one token, all 3 blocks cached, nothing new.
  KvReq pin{1ULL << 63, blocks_of(1, 0, 3, bs_)};
  pin.tokens.push_back(0);
  ASSERT_EQ(lookup(pin), 3 * bs_);
  ASSERT_TRUE(alloc(pin, 3 * bs_, 0));
  EXPECT_EQ(stats().free_device_blocks, 16 - 3);
  // Everything else can go; the pinned prefix cannot.
  ASSERT_NO_FATAL_FAILURE(press(10, 13));
  EXPECT_EQ(lookup(a), 3 * bs_);
  release(1ULL << 63);
  EXPECT_EQ(stats().free_device_blocks, 3);
  EXPECT_EQ(lookup(a), 3 * bs_) << "released, the prefix stays cached until evicted";
}

TEST_F(PrefixTree, LaterGroupsNeverEnterTheTree) {
  ASSERT_NO_FATAL_FAILURE(make_tree(16));
  KvReq a = req(1, blocks_of(1, 0, 2, bs_), {});
  ASSERT_TRUE(alloc(a, 0, 2 * bs_ + 1, 0));
  ASSERT_TRUE(alloc(a, 0, 2 * bs_, 1));
  a.num_computed = 2 * bs_ + 1;
  const bricks_request_view v = a.view();
  vt_->commit(kv_->instance(), &v, 1);
  release(1);
  EXPECT_EQ(lookup(a), 0) << "group 0 was never committed; group 1 is not a prefix";
  EXPECT_EQ(stats().free_device_blocks, 16);
}

}  // namespace
}  // namespace bricks::testing
