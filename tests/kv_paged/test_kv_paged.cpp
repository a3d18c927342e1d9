// kv/paged: what goes beyond the kv conformance suite (params, LRU order, stats).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "kv_fixture.h"

namespace bricks::testing {
namespace {

class PagedKv : public ::testing::Test {
 protected:
  void make(std::vector<ParamSetting> params, int32_t device, int32_t host = 0) {
    kv_ = create_brick(BRICKS_KIND_KV, "paged", params);
    ASSERT_NE(kv_, nullptr);
    vt_ = kv_->vt<bricks_kv_vtable>();
    bs_ = vt_->block_size(kv_->instance());
    bricks_kv_geometry g{sizeof(bricks_kv_geometry), device, host, 0, 1, 1};
    ASSERT_EQ(take_error(vt_->configure(kv_->instance(), &g)), "");
  }
  bool fill(KvReq& r, int32_t cached = 0) {
    const bricks_request_view v = r.view();
    int32_t ok = 0;
    EXPECT_EQ(take_error(vt_->allocate(kv_->instance(), &v, 0, cached,
                                       static_cast<int32_t>(r.tokens.size()) - cached, &ok)),
              "");
    if (ok == 0) return false;
    r.num_computed = static_cast<int32_t>(r.tokens.size());
    const bricks_request_view done = r.view();
    vt_->commit(kv_->instance(), &done, 0);
    return true;
  }
  int32_t lookup(const KvReq& r) {
    const bricks_request_view v = r.view();
    return vt_->lookup_prefix(kv_->instance(), &v, 0);
  }
  bricks_kv_stats stats() {
    bricks_kv_stats s{};
    vt_->stats(kv_->instance(), &s);
    return s;
  }
  std::unique_ptr<HarnessBrick> kv_;
  const bricks_kv_vtable* vt_ = nullptr;
  int32_t bs_ = 0;
};

TEST_F(PagedKv, DescriptorDeclaresParamsAndCapabilities) {
  ASSERT_NO_FATAL_FAILURE(make({}, 4));
  EXPECT_EQ(bs_, 16);
  const bricks_brick_desc& d = kv_->desc();
  ASSERT_EQ(d.num_params, 2);
  EXPECT_STREQ(d.params[0].name, "block_size");
  EXPECT_STREQ(d.params[1].name, "enable_prefix_cache");
  ASSERT_EQ(d.num_provides, 3);
  EXPECT_STREQ(d.provides[0], "kv.paged");
  EXPECT_STREQ(d.provides[1], "kv.prefix_cache");
  EXPECT_STREQ(d.provides[2], "kv.swap");
}

TEST_F(PagedKv, BlockSizeMustBeAPowerOfTwo) {
  EXPECT_NONFATAL_FAILURE(create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 12)}),
                          "not a power of two");
  ASSERT_NO_FATAL_FAILURE(make({int_param("block_size", 1)}, 4));
  EXPECT_EQ(bs_, 1);
}

TEST_F(PagedKv, CallsBeforeConfigureAreErrors) {
  kv_ = create_brick(BRICKS_KIND_KV, "paged");
  ASSERT_NE(kv_, nullptr);
  vt_ = kv_->vt<bricks_kv_vtable>();
  KvReq a{1, token_range(1, 4)};
  const bricks_request_view v = a.view();
  int32_t ok = 0;
  EXPECT_NE(take_error(vt_->allocate(kv_->instance(), &v, 0, 0, 4, &ok)), "");
  EXPECT_EQ(vt_->lookup_prefix(kv_->instance(), &v, 0), 0);
  bricks_kv_geometry bad{sizeof(bricks_kv_geometry), 0, 0, 0, 1, 1};
  EXPECT_NE(take_error(vt_->configure(kv_->instance(), &bad)), "");
}

TEST_F(PagedKv, DisabledPrefixCacheNeverHits) {
  ASSERT_NO_FATAL_FAILURE(
      make({int_param("block_size", 4), bool_param("enable_prefix_cache", false)}, 16));
  KvReq a{1, token_range(10, 13)};
  ASSERT_TRUE(fill(a));
  KvReq b{2, a.tokens};
  EXPECT_EQ(lookup(b), 0);
}

TEST_F(PagedKv, EvictsTheLeastRecentlyFreedPrefixFirst) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("block_size", 4)}, 8));
  KvReq a{1, token_range(100, 8)}, b{2, token_range(200, 8)};  // 2 full blocks each
  ASSERT_TRUE(fill(a));
  ASSERT_TRUE(fill(b));
  vt_->release(kv_->instance(), 1);  // a's blocks are older on the free list
  vt_->release(kv_->instance(), 2);
  KvReq c{3, token_range(300, 16)};  // 4 blocks: the 4 empty ones, then nothing cached
  ASSERT_TRUE(fill(c));
  KvReq a2{4, token_range(100, 9)}, b2{5, token_range(200, 9)};
  EXPECT_EQ(lookup(a2), 8);
  EXPECT_EQ(lookup(b2), 8);
  KvReq d{6, token_range(400, 4)};  // one more block evicts a's tail block first
  ASSERT_TRUE(fill(d));
  EXPECT_EQ(lookup(a2), 4);
  EXPECT_EQ(lookup(b2), 8);
  KvReq e{7, token_range(500, 4)};
  ASSERT_TRUE(fill(e));
  EXPECT_EQ(lookup(a2), 0);
  EXPECT_EQ(lookup(b2), 8);
}

TEST_F(PagedKv, HitBlocksLeaveTheFreeList) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("block_size", 4)}, 4));
  KvReq a{1, token_range(100, 9)};  // 2 cached blocks + 1
  ASSERT_TRUE(fill(a));
  vt_->release(kv_->instance(), 1);
  KvReq b{2, a.tokens};
  ASSERT_TRUE(fill(b, lookup(b)));
  EXPECT_EQ(stats().free_device_blocks, 1);
  KvReq c{3, token_range(900, 4)};
  ASSERT_TRUE(fill(c));  // takes the free block, not b's shared ones
  KvReq d{4, token_range(950, 1)};
  EXPECT_FALSE(fill(d));
  const bricks_kv_stats s = stats();
  EXPECT_EQ(s.prefix_hit_tokens, 8);
  EXPECT_EQ(s.prefix_query_tokens, 9 + 9 + 4);
}

TEST_F(PagedKv, SwappedInBlocksReenterThePrefixCache) {
  ASSERT_NO_FATAL_FAILURE(make({int_param("block_size", 4)}, 8, 8));
  KvReq a{1, token_range(100, 9)};
  ASSERT_TRUE(fill(a));
  int32_t ok = 0;
  ASSERT_EQ(take_error(vt_->swap_out(kv_->instance(), 1, &ok)), "");
  ASSERT_EQ(ok, 1);
  KvReq filler{2, token_range(700, 32)};  // evicts the cached copies on the device
  ASSERT_TRUE(fill(filler));
  vt_->release(kv_->instance(), 2);
  KvReq probe{3, a.tokens};
  EXPECT_EQ(lookup(probe), 0);
  ASSERT_EQ(take_error(vt_->swap_in(kv_->instance(), 1, &ok)), "");
  ASSERT_EQ(ok, 1);
  const bricks_request_view v = a.view();
  vt_->commit(kv_->instance(), &v, 0);
  EXPECT_EQ(lookup(probe), 8);
}

}  // namespace
}  // namespace bricks::testing
