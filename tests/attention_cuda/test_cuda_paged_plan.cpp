// cuda_paged's launch plan: every (query row, head) is computed by exactly one tile, a
// split tile's pieces cover exactly the keys its last row sees, splitting happens only
// when the tiles cannot fill the GPU, and bad batches are refused before any launch.
#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "attention_batch.h"
#include "bricks/error.hpp"
#include "launch_plan.h"

namespace bricks_cuda_paged {
namespace {

using Batch = bricks::testing::AttentionBatch;

// (seq, kv head, vector) -> the key ranges that cover it, directly or through a merge.
using Coverage = std::map<std::tuple<int32_t, int32_t, int32_t>, std::vector<std::pair<int, int>>>;

Coverage coverage(const LaunchPlan& plan) {
  Coverage c;
  for (const Item& it : plan.items) {
    EXPECT_LE(it.vec_end - it.vec_begin, kTileVectors);
    EXPECT_LT(it.vec_begin, it.vec_end);
    for (int32_t v = it.vec_begin; v < it.vec_end; ++v) {
      c[{it.seq, it.kv_head, v}].push_back({it.key_begin, it.key_end});
    }
  }
  return c;
}

TEST(CudaPagedPlan, EveryVectorOnceAndEveryVisibleKey) {
  // GQA 32/8: a decode, a prefill of 40 rows over 40 keys, a chunk of 5 rows after 100 keys.
  Batch batch({{77, 1}, {40, 40}, {105, 5}}, 32, 8);
  const LaunchPlan plan = build_launch_plan(batch.b, 132, 0);
  EXPECT_EQ(plan.group, 4);
  EXPECT_EQ(plan.total_rows, 46);
  EXPECT_EQ(plan.num_indices, 5 + 3 + 7);
  ASSERT_EQ(plan.seqs.size(), 3u);
  EXPECT_EQ(plan.seqs[2].row0, 41);
  EXPECT_EQ(plan.seqs[2].kv_len, 105);
  EXPECT_EQ(plan.seqs[2].page0, 8);
  const Coverage c = coverage(plan);
  const int32_t qo[] = {1, 40, 5}, kv[] = {77, 40, 105};
  for (int32_t s = 0; s < 3; ++s) {
    for (int32_t h = 0; h < 8; ++h) {
      for (int32_t v = 0; v < qo[s] * 4; ++v) {
        auto it = c.find({s, h, v});
        ASSERT_NE(it, c.end()) << s << " " << h << " " << v;
        const int32_t row = v / 4;
        bricks::testing::expect_keys_back_to_back(it->second, kv[s] - qo[s] + row + 1, kv[s]);
      }
    }
  }
  size_t vectors = 0;
  for (int32_t s = 0; s < 3; ++s) vectors += static_cast<size_t>(qo[s] * 4 * 8);
  EXPECT_EQ(c.size(), vectors);
}

TEST(CudaPagedPlan, FewTilesSplitLongKeysAndMergeThem) {
  // One decode of 4,000 keys, 32 q heads on 8 kv heads: 8 tiles for 132 multiprocessors.
  Batch batch({{4000, 1}}, 32, 8);
  const LaunchPlan plan = build_launch_plan(batch.b, 132, 0);
  ASSERT_EQ(plan.merges.size(), 8u);
  const Merge& m = plan.merges[0];
  EXPECT_GT(m.num_splits, 1);
  // Pieces of at least 256 keys, multiples of 32 but the last.
  for (const Item& it : plan.items) {
    EXPECT_GE(it.partial, 0);
    if (it.key_end != 4000) {
      EXPECT_GE(it.key_end - it.key_begin, kMinSplitKeys);
      EXPECT_EQ((it.key_end - it.key_begin) % 32, 0);
    }
  }
  // Each merge's slots: num_splits blocks of (vec_end - vec_begin), distinct over merges.
  int64_t slots = 0;
  for (const Merge& g : plan.merges) slots += int64_t{g.num_splits} * (g.vec_end - g.vec_begin);
  EXPECT_EQ(slots, plan.partial_vectors);
  EXPECT_EQ(static_cast<int64_t>(plan.items.size()), int64_t{8} * m.num_splits);
}

TEST(CudaPagedPlan, ManyTilesAreNotSplit) {
  // 64 decodes x 8 kv heads = 512 tiles, more than twice 132 multiprocessors.
  std::vector<std::pair<int32_t, int32_t>> seqs(64, {3000, 1});
  Batch batch(seqs, 32, 8);
  const LaunchPlan plan = build_launch_plan(batch.b, 132, 0);
  EXPECT_TRUE(plan.merges.empty());
  EXPECT_EQ(plan.items.size(), 512u);
  EXPECT_EQ(plan.partial_vectors, 0);
}

TEST(CudaPagedPlan, FixedChunkSplitsEveryTile) {
  Batch batch({{100, 1}}, 4, 4);
  const LaunchPlan plan = build_launch_plan(batch.b, 132, 30);
  ASSERT_EQ(plan.merges.size(), 4u);
  EXPECT_EQ(plan.merges[0].num_splits, 4);  // 30 + 30 + 30 + 10
  EXPECT_EQ(plan.items[3].key_begin, 90);
  EXPECT_EQ(plan.items[3].key_end, 100);
}

TEST(CudaPagedPlan, WideGroupsTakeSeveralTiles) {
  // 64 query heads on one kv head: a decode row is 64 vectors, 4 tiles of 16.
  Batch batch({{10, 1}}, 64, 1);
  const LaunchPlan plan = build_launch_plan(batch.b, 1, 0);
  ASSERT_EQ(plan.items.size(), 4u);
  EXPECT_EQ(plan.items[3].vec_begin, 48);
  EXPECT_EQ(plan.items[3].vec_end, 64);
}

TEST(CudaPagedPlan, FullAttentionSeesEveryKey) {
  Batch batch({{50, 20}}, 2, 2, 16, 0);
  const LaunchPlan plan = build_launch_plan(batch.b, 132, 0);
  for (const Item& it : plan.items) EXPECT_EQ(it.key_end, 50);
}

TEST(CudaPagedPlan, RefusesWhatItCannotRun) {
  Batch wide({{10, 1}}, 4, 4);
  wide.b.head_dim = 512;
  try {
    build_launch_plan(wide.b, 132, 0);
    FAIL() << "head_dim 512 was accepted";
  } catch (const bricks::Error& e) {
    EXPECT_EQ(e.code(), BRICKS_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("head_dim 512"), std::string::npos);
  }
  Batch bad({{10, 1}}, 6, 4);
  EXPECT_THROW(build_launch_plan(bad.b, 132, 0), bricks::Error);
  Batch empty({}, 8, 2);
  const LaunchPlan plan = build_launch_plan(empty.b, 132, 0);
  EXPECT_TRUE(plan.items.empty());
}

}  // namespace
}  // namespace bricks_cuda_paged
