// cpu_paged's work plan: every (row, query head) is computed by one item, or by split items
// whose key ranges cover the keys its row sees, back to back; a decode row of a model without
// grouped queries is one item over its kv heads (KernelSet::attend_heads), split into groups of
// heads where its keys are too few to split; other rows take one kv head an item.
#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "attention_batch.h"
#include "work_plan.h"

namespace bricks_cpu_paged {
namespace {

using Batch = bricks::testing::AttentionBatch;

// (seq, row, query head) -> the key ranges of the items that compute it.
using Coverage = std::map<std::tuple<int32_t, int32_t, int32_t>, std::vector<std::pair<int, int>>>;

Coverage coverage(const WorkPlan& plan, int32_t group) {
  Coverage c;
  for (const WorkItem& it : plan.items) {
    EXPECT_GE(it.kv_heads, 1);
    EXPECT_LE(it.kv_heads, plan.step_heads);
    for (int32_t r = it.row_begin; r < it.row_end; ++r) {
      for (int32_t h = it.kv_head * group; h < (it.kv_head + it.kv_heads) * group; ++h) {
        c[{it.seq, r, h}].push_back({it.key_begin, it.key_end});
      }
    }
  }
  return c;
}

// Checks that every row and head of `batch` is covered once, over the keys it sees.
void expect_covered(const Batch& batch, const WorkPlan& plan,
                    const std::vector<std::pair<int32_t, int32_t>>& seqs) {
  const int32_t group = batch.b.num_qo_heads / batch.b.num_kv_heads;
  const Coverage c = coverage(plan, group);
  size_t cells = 0;
  for (int32_t s = 0; s < static_cast<int32_t>(seqs.size()); ++s) {
    const auto [kv, qo] = seqs[static_cast<size_t>(s)];
    cells += static_cast<size_t>(qo) * static_cast<size_t>(batch.b.num_qo_heads);
    for (int32_t r = 0; r < qo; ++r) {
      for (int32_t h = 0; h < batch.b.num_qo_heads; ++h) {
        auto it = c.find({s, r, h});
        ASSERT_NE(it, c.end()) << s << " " << r << " " << h;
        bricks::testing::expect_keys_back_to_back(it->second, kv - qo + r + 1, kv);
      }
    }
  }
  EXPECT_EQ(c.size(), cells);
  int64_t partial = 0;
  for (const SplitTask& t : plan.split) {
    for (int32_t i = 0; i < t.num_items; ++i) {
      const WorkItem& it = plan.items[static_cast<size_t>(t.first_item + i)];
      EXPECT_EQ(it.kv_head, t.kv_head);
      EXPECT_EQ(it.kv_heads, t.kv_heads);
      EXPECT_EQ(it.partial, partial);
      partial += int64_t{it.row_end - it.row_begin} * group * it.kv_heads;
    }
  }
  EXPECT_EQ(partial, plan.partial_vectors);
}

TEST(CpuPagedPlan, GroupedQueriesTakeOneKvHeadAnItem) {
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{77, 1}, {40, 40}, {105, 5}};
  Batch batch(seqs, 32, 8);
  const WorkPlan plan = build_work_plan(batch.b, 0, 2);
  EXPECT_EQ(plan.step_heads, 1);
  for (const WorkItem& it : plan.items) EXPECT_EQ(it.kv_heads, 1);
  expect_covered(batch, plan, seqs);
}

TEST(CpuPagedPlan, LongDecodeWithoutGroupedQueriesWalksAllHeadsInKeyChunks) {
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{4096, 1}};
  Batch batch(seqs, 32, 32);
  const WorkPlan plan = build_work_plan(batch.b, 0, 2);
  EXPECT_EQ(plan.step_heads, 32);
  ASSERT_EQ(plan.split.size(), 1u);
  // Eight items for two threads, each over every head.
  EXPECT_EQ(plan.items.size(), 8u);
  for (const WorkItem& it : plan.items) {
    EXPECT_EQ(it.kv_head, 0);
    EXPECT_EQ(it.kv_heads, 32);
  }
  expect_covered(batch, plan, seqs);
}

TEST(CpuPagedPlan, ShortDecodeWithoutGroupedQueriesSplitsItsHeads) {
  // 64 keys give one chunk: the heads split into groups, enough items for two threads.
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{64, 1}};
  Batch batch(seqs, 32, 32);
  const WorkPlan plan = build_work_plan(batch.b, 0, 2);
  EXPECT_TRUE(plan.split.empty());
  EXPECT_EQ(plan.items.size(), 8u);
  for (const WorkItem& it : plan.items) EXPECT_EQ(it.kv_heads, 4);
  expect_covered(batch, plan, seqs);
}

TEST(CpuPagedPlan, MixedBatchWithoutGroupedQueries) {
  // Decode rows walk heads in step; a prefill's rows and a chunk of 3 rows do not; a forced
  // chunk size splits every tile, the heads in step included.
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{300, 1}, {40, 40}, {103, 3}, {9, 1}};
  Batch batch(seqs, 12, 12);
  for (int32_t chunk : {0, 7}) {
    const WorkPlan plan = build_work_plan(batch.b, chunk, 4);
    bool stepped = false;
    for (const WorkItem& it : plan.items) {
      const bool decode = it.seq == 0 || it.seq == 3;
      if (!decode) {
        EXPECT_EQ(it.kv_heads, 1);
      }
      stepped = stepped || it.kv_heads > 1;
    }
    EXPECT_TRUE(stepped) << chunk;
    expect_covered(batch, plan, seqs);
  }
}

}  // namespace
}  // namespace bricks_cpu_paged
