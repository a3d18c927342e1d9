// kv/block_group: swaps move runs, conversation turns are kept on the host tier and reused,
// kept turns give way to swaps. The kv conformance suite covers the shared contract.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "brick_harness.h"

namespace bricks::testing {
namespace {

struct Req {
  uint64_t id = 0;
  uint64_t conversation = 0;
  std::vector<int32_t> tokens;
  int32_t num_computed = 0;

  bricks_request_view view() const {
    bricks_request_view v{};
    v.id = id;
    v.conversation = conversation;
    v.state = num_computed > 0 ? BRICKS_REQ_RUNNING : BRICKS_REQ_WAITING;
    v.prompt_len = static_cast<int32_t>(tokens.size());
    v.num_tokens = static_cast<int32_t>(tokens.size());
    v.num_computed = num_computed;
    v.max_new_tokens = 8;
    v.tokens = tokens.data();
    return v;
  }
};

std::vector<int32_t> tokens_from(int32_t base, int32_t count) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < count; ++i) t.push_back(base + i);
  return t;
}

// A kv brick over a token-level picture of both tiers: every queued copy is applied, so a
// test can read back what a request's page table points at.
class KvUnderTest {
 public:
  KvUnderTest(const std::string& name, std::vector<ParamSetting> params, int32_t device,
              int32_t host) {
    kv_ = create_brick(BRICKS_KIND_KV, name, params);
    if (kv_ == nullptr) return;
    vt_ = kv_->vt<bricks_kv_vtable>();
    bs_ = vt_->block_size(kv_->instance());
    bricks_kv_geometry g{sizeof(bricks_kv_geometry), device, host, 0, 1, 1};
    EXPECT_EQ(take_error(vt_->configure(kv_->instance(), &g)), "");
    device_.assign(static_cast<size_t>(device * bs_), -1);
    host_.assign(static_cast<size_t>(host * bs_), -1);
  }
  bool ok() const { return kv_ != nullptr; }
  int32_t bs() const { return bs_; }

  bool alloc(const Req& r, int32_t cached, int32_t num_new) {
    const bricks_request_view v = r.view();
    int32_t ok = -1;
    EXPECT_EQ(take_error(vt_->allocate(kv_->instance(), &v, 0, cached, num_new, &ok)), "");
    return ok == 1;
  }
  // Computes tokens [num_computed, size): allocates, writes them, commits.
  bool compute(Req& r, int32_t cached = 0) {
    const int32_t n = static_cast<int32_t>(r.tokens.size()) - r.num_computed - cached;
    if (!alloc(r, cached, n)) return false;
    run_copies();
    r.num_computed += cached;
    const std::vector<int32_t> p = pages(r.id, static_cast<int32_t>(r.tokens.size()));
    for (size_t t = static_cast<size_t>(r.num_computed); t < r.tokens.size(); ++t) {
      device_[static_cast<size_t>(p[t / bs_] * bs_) + t % bs_] = r.tokens[t];
    }
    r.num_computed = static_cast<int32_t>(r.tokens.size());
    const bricks_request_view v = r.view();
    vt_->commit(kv_->instance(), &v, 0);
    return true;
  }
  int32_t lookup(const Req& r) {
    const bricks_request_view v = r.view();
    return vt_->lookup_prefix(kv_->instance(), &v, 0);
  }
  void release(uint64_t id) { vt_->release(kv_->instance(), id); }
  bool swap(bool out, uint64_t id) {
    int32_t ok = -1;
    EXPECT_EQ(take_error((out ? vt_->swap_out : vt_->swap_in)(kv_->instance(), id, &ok)), "");
    return ok == 1;
  }
  std::vector<int32_t> pages(uint64_t id, int32_t kv_len) {
    bricks_kv_seq seq{id, kv_len, 0};
    bricks_page_table t{};
    EXPECT_EQ(take_error(vt_->build_page_table(kv_->instance(), 0, &seq, 1, &t, nullptr)), "");
    return std::vector<int32_t>(t.indices + t.indptr[0], t.indices + t.indptr[1]);
  }
  // Applies the queued copies; returns them.
  std::vector<bricks_block_copy> run_copies() {
    const bricks_block_copy* c = nullptr;
    const int32_t n = vt_->take_copies(kv_->instance(), &c);
    std::vector<bricks_block_copy> out(c, c + n);
    for (const auto& copy : out) {
      auto& src = copy.src_tier == BRICKS_TIER_DEVICE ? device_ : host_;
      auto& dst = copy.dst_tier == BRICKS_TIER_DEVICE ? device_ : host_;
      std::copy_n(src.begin() + copy.src_block * bs_, copy.num_blocks * bs_,
                  dst.begin() + copy.dst_block * bs_);
    }
    return out;
  }
  // Whether the first `n` tokens of `r` read back through its page table.
  bool reads_back(const Req& r, int32_t n) {
    const std::vector<int32_t> p = pages(r.id, n);
    for (int32_t t = 0; t < n; ++t) {
      if (device_[static_cast<size_t>(p[static_cast<size_t>(t / bs_)] * bs_ + t % bs_)] !=
          r.tokens[static_cast<size_t>(t)]) {
        return false;
      }
    }
    return true;
  }
  bricks_kv_stats stats() const {
    bricks_kv_stats s{};
    s.struct_size = sizeof(s);
    vt_->stats(kv_->instance(), &s);
    return s;
  }

 private:
  std::unique_ptr<HarnessBrick> kv_;
  const bricks_kv_vtable* vt_ = nullptr;
  int32_t bs_ = 0;
  std::vector<int32_t> device_, host_;
};

int32_t blocks_in(const std::vector<bricks_block_copy>& copies) {
  int32_t n = 0;
  for (const auto& c : copies) n += c.num_blocks;
  return n;
}

// Two requests that grow one block at a time, taking turns, then swap out: with block
// groups each holds runs of group_blocks; kv/paged hands out interleaved single blocks.
int32_t interleaved_swap_copies(const std::string& name, std::vector<ParamSetting> params) {
  KvUnderTest kv(name, std::move(params), 64, 64);
  EXPECT_TRUE(kv.ok());
  if (!kv.ok()) return -1;
  Req a{1, 0, {}}, b{2, 0, {}};
  for (int32_t i = 0; i < 16; ++i) {
    for (Req* r : {&a, &b}) {
      const std::vector<int32_t> more = tokens_from(r->id == 1 ? 100 : 5000, kv.bs());
      r->tokens.insert(r->tokens.end(), more.begin(), more.end());
      EXPECT_TRUE(kv.compute(*r));
    }
  }
  EXPECT_TRUE(kv.swap(true, 1));
  const std::vector<bricks_block_copy> copies = kv.run_copies();
  EXPECT_EQ(blocks_in(copies), 16);
  EXPECT_TRUE(kv.swap(false, 1));
  kv.run_copies();
  EXPECT_TRUE(kv.reads_back(a, static_cast<int32_t>(a.tokens.size())));
  return static_cast<int32_t>(copies.size());
}

TEST(BlockGroupKv, InterleavedGrowthSwapsInFewerLargerCopiesThanPaged) {
  const int32_t grouped = interleaved_swap_copies(
      "block_group", {int_param("block_size", 4), int_param("group_blocks", 8)});
  const int32_t paged = interleaved_swap_copies(
      "paged", {int_param("block_size", 4), bool_param("enable_prefix_cache", false)});
  EXPECT_EQ(grouped, 2) << "16 blocks in two groups of 8";
  EXPECT_EQ(paged, 16) << "kv/paged interleaves the two requests block by block";
}

TEST(BlockGroupKv, NextTurnOfAConversationHitsTheKeptTurn) {
  KvUnderTest kv("block_group", {int_param("block_size", 4)}, 32, 16);
  ASSERT_TRUE(kv.ok());
  Req turn1{1, 7, tokens_from(100, 22)};
  ASSERT_TRUE(kv.compute(turn1));
  kv.release(1);
  const std::vector<bricks_block_copy> kept = kv.run_copies();
  EXPECT_EQ(blocks_in(kept), 5) << "the 5 full blocks of 22 tokens go to the host tier";
  EXPECT_EQ(kept.size(), 1u) << "one run";
  EXPECT_EQ(kv.stats().free_host_blocks, 16) << "kept blocks count as free (evictable)";

  // Turn 2: turn 1's tokens, then new ones. Overwrite the device meanwhile.
  Req filler{9, 0, tokens_from(70000, 32 * 4)};
  ASSERT_TRUE(kv.compute(filler));
  kv.release(9);
  Req turn2{2, 7, tokens_from(100, 22)};
  const std::vector<int32_t> more = tokens_from(900, 10);
  turn2.tokens.insert(turn2.tokens.end(), more.begin(), more.end());
  const int32_t hit = kv.lookup(turn2);
  EXPECT_EQ(hit, 20);
  ASSERT_TRUE(kv.compute(turn2, hit));
  EXPECT_TRUE(kv.reads_back(turn2, 32)) << "the restored blocks hold turn 1's KV";
  const bricks_kv_stats s = kv.stats();
  EXPECT_EQ(s.prefix_hit_tokens, 20);
  EXPECT_EQ(s.blocks_swapped_in, 5);

  // Only the blocks beyond what is kept are copied when turn 2 ends.
  kv.release(2);
  EXPECT_EQ(blocks_in(kv.run_copies()), 3) << "32 tokens = 8 full blocks, 5 already kept";
  Req turn3{3, 7, turn2.tokens};
  turn3.tokens.push_back(1);
  EXPECT_EQ(kv.lookup(turn3), 32);
}

TEST(BlockGroupKv, OtherConversationsAndDifferentTokensDoNotHit) {
  KvUnderTest kv("block_group", {int_param("block_size", 4)}, 32, 16);
  ASSERT_TRUE(kv.ok());
  Req turn1{1, 7, tokens_from(100, 17)};
  ASSERT_TRUE(kv.compute(turn1));
  kv.release(1);
  kv.run_copies();
  Req other{2, 8, turn1.tokens};
  EXPECT_EQ(kv.lookup(other), 0) << "another conversation";
  Req plain{3, 0, turn1.tokens};
  EXPECT_EQ(kv.lookup(plain), 0) << "no conversation";
  Req diverged{4, 7, turn1.tokens};
  diverged.tokens[9] = -1;
  EXPECT_EQ(kv.lookup(diverged), 8) << "hits stop at the first block that differs";
  Req shorter{5, 7, tokens_from(100, 9)};
  EXPECT_EQ(kv.lookup(shorter), 8) << "at most num_tokens - 1";
  EXPECT_EQ(kv.stats().free_device_blocks, 32) << "lookups change nothing";
}

TEST(BlockGroupKv, SwapsEvictKeptConversationsOldestFirst) {
  KvUnderTest kv("block_group", {int_param("block_size", 4)}, 32, 8);
  ASSERT_TRUE(kv.ok());
  Req c1{1, 11, tokens_from(100, 12)}, c2{2, 12, tokens_from(200, 12)};
  ASSERT_TRUE(kv.compute(c1));
  ASSERT_TRUE(kv.compute(c2));
  kv.release(1);  // conversation 11 kept first: the oldest
  kv.release(2);
  kv.run_copies();
  Req probe1{3, 11, tokens_from(100, 13)}, probe2{4, 12, tokens_from(200, 13)};
  EXPECT_EQ(kv.lookup(probe1), 12);
  EXPECT_EQ(kv.lookup(probe2), 12);

  Req big{5, 0, tokens_from(5000, 16)};  // 4 blocks: 2 free host blocks, one entry must go
  ASSERT_TRUE(kv.compute(big));
  ASSERT_TRUE(kv.swap(true, 5));
  EXPECT_EQ(kv.lookup(probe1), 0) << "the oldest kept conversation was evicted";
  EXPECT_EQ(kv.lookup(probe2), 12);
  Req bigger{6, 0, tokens_from(9000, 20)};  // 5 blocks > 8 - 4 swapped: refused
  ASSERT_TRUE(kv.compute(bigger));
  EXPECT_FALSE(kv.swap(true, 6));
  EXPECT_EQ(kv.lookup(probe2), 12) << "a refused swap evicts nothing";
  kv.release(5);
  kv.release(6);
  EXPECT_EQ(kv.stats().free_host_blocks, 8);
}

TEST(BlockGroupKv, KeepConversationsOffKeepsNothing) {
  KvUnderTest kv("block_group",
                 {int_param("block_size", 4), bool_param("keep_conversations", false)}, 32, 16);
  ASSERT_TRUE(kv.ok());
  Req turn1{1, 7, tokens_from(100, 22)};
  ASSERT_TRUE(kv.compute(turn1));
  kv.release(1);
  EXPECT_TRUE(kv.run_copies().empty());
  Req turn2{2, 7, tokens_from(100, 30)};
  EXPECT_EQ(kv.lookup(turn2), 0);
}

TEST(BlockGroupKv, CachedAllocationIsAllOrNothing) {
  KvUnderTest kv("block_group", {int_param("block_size", 4)}, 8, 16);
  ASSERT_TRUE(kv.ok());
  Req turn1{1, 7, tokens_from(100, 16)};
  ASSERT_TRUE(kv.compute(turn1));
  kv.release(1);
  kv.run_copies();
  Req filler{2, 0, tokens_from(7000, 20)};  // 5 of 8 device blocks
  ASSERT_TRUE(kv.compute(filler));
  Req turn2{3, 7, tokens_from(100, 20)};
  const int32_t hit = kv.lookup(turn2);
  ASSERT_EQ(hit, 16);
  EXPECT_FALSE(kv.alloc(turn2, hit, 4)) << "needs 5 blocks, 3 free";
  EXPECT_TRUE(kv.run_copies().empty());
  EXPECT_EQ(kv.stats().free_device_blocks, 3);
  EXPECT_EQ(kv.lookup(turn2), 16);
}

}  // namespace
}  // namespace bricks::testing
