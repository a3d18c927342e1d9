// SimDevice on its own: it advances the simulated clock by the cost model's step time,
// charges KV copies before the step or beside it, and computes no logits.
#include <gtest/gtest.h>

#include <vector>

#include "engine/sim_device.h"
#include "sim_test_support.h"

namespace bricks::testing {
namespace {

engine::KvShape round_shape() {
  // The round model's KV: 2 layers, 8 KV heads of 128, f16, 16-token blocks.
  return engine::KvShape{2, 8, 128, 16, BRICKS_DTYPE_F16};
}

// One decode at context 1000 (requests are only counted, never read).
struct DecodeBatch {
  engine::Request request;
  engine::ForwardBatch batch;
  DecodeBatch() {
    batch.clear();
    batch.requests.push_back(&request);
    batch.token_ids.push_back(5);
    batch.positions.push_back(999);
    batch.slots.push_back(0);
    batch.qo_indptr.push_back(1);
    batch.logit_rows.push_back(0);
  }
};

bricks_block_copy swap_out(int32_t src, int32_t dst, int32_t blocks) {
  bricks_block_copy c{};
  c.src_tier = BRICKS_TIER_DEVICE;
  c.dst_tier = BRICKS_TIER_HOST;
  c.src_block = src;
  c.dst_block = dst;
  c.num_blocks = blocks;
  return c;
}

TEST(SimDevice, ForwardAdvancesTheClockByTheStepTime) {
  engine::KvPool pool(round_shape(), 64, 64, false);
  engine::SimDevice dev(round_cost_model(), {});
  dev.bind(pool);
  EXPECT_FALSE(dev.computes_logits());
  EXPECT_FALSE(dev.stores_kv());
  DecodeBatch d;
  std::vector<float> logits(7, 1.0f);
  dev.forward(d.batch, bricks_page_table{}, logits);
  EXPECT_TRUE(logits.empty());
  EXPECT_NEAR(dev.clock().now(), 1097.442976 * kUs, 1e-12);  // cost_model_test's decode
  EXPECT_NEAR(dev.last_step().total_s, 1097.442976 * kUs, 1e-12);
  dev.forward(d.batch, bricks_page_table{}, logits);
  EXPECT_NEAR(dev.clock().now(), 2 * 1097.442976 * kUs, 1e-12);
  EXPECT_EQ(dev.totals().steps, 2);
  EXPECT_NE(dev.describe().find("round-model on 1x round-gpu"), std::string::npos);
}

TEST(SimDevice, CopiesAddToTheStepUnlessOverlapped) {
  // Two runs of 2 blocks: each 4 transfers of 2 * 16 * 8 * 128 * 2 = 65536 B at 10 GB/s
  // plus 10 us.
  const double copy_s = 2 * 4 * (10 + 6.5536) * kUs;
  const bricks_block_copy copies[] = {swap_out(0, 0, 2), swap_out(4, 2, 2)};
  DecodeBatch d;
  std::vector<float> logits;
  const double step_s = 1097.442976 * kUs;

  engine::KvPool pool(round_shape(), 256, 256, false);
  engine::SimDevice serial(round_cost_model(), {});
  serial.bind(pool);
  EXPECT_EQ(serial.copy_kv(copies, 2), 8u * 65536u);  // 2 runs * 4 transfers
  EXPECT_NEAR(serial.clock().now(), copy_s, 1e-12);   // before compute
  serial.forward(d.batch, bricks_page_table{}, logits);
  EXPECT_NEAR(serial.clock().now(), copy_s + step_s, 1e-12);

  engine::SimDevice overlapped(round_cost_model(), {true, ""});
  overlapped.bind(pool);
  overlapped.copy_kv(copies, 2);
  EXPECT_EQ(overlapped.clock().now(), 0.0);
  overlapped.forward(d.batch, bricks_page_table{}, logits);
  EXPECT_NEAR(overlapped.clock().now(), step_s, 1e-12);  // the copy hides under the step
  EXPECT_NEAR(overlapped.totals().swap_hidden_s, copy_s, 1e-12);

  // A copy longer than the step sets the step's length.
  const bricks_block_copy big[] = {swap_out(0, 0, 128)};
  overlapped.copy_kv(big, 1);
  const double big_s = 4 * (10 + 128 * 32768 / 10e9 / kUs) * kUs;
  ASSERT_GT(big_s, step_s);
  overlapped.forward(d.batch, bricks_page_table{}, logits);
  EXPECT_NEAR(overlapped.clock().now(), step_s + big_s, 1e-12);
}

TEST(SimDevice, BlockGroupSwapsAreCheaperThanPerBlockSwaps) {
  engine::KvPool pool(round_shape(), 64, 64, false);
  engine::SimDevice grouped(round_cost_model(), {});
  engine::SimDevice per_block(round_cost_model(), {});
  grouped.bind(pool);
  per_block.bind(pool);
  const bricks_block_copy one_run[] = {swap_out(0, 0, 16)};
  std::vector<bricks_block_copy> runs;
  for (int32_t b = 0; b < 16; ++b) runs.push_back(swap_out(b, b, 1));
  EXPECT_EQ(grouped.copy_kv(one_run, 1), per_block.copy_kv(runs.data(), 16));
  EXPECT_LT(grouped.clock().now(), per_block.clock().now());
}

TEST(SimDevice, CopiesOutsideThePoolAreRejected) {
  engine::KvPool pool(round_shape(), 8, 8, false);
  engine::SimDevice dev(round_cost_model(), {});
  dev.bind(pool);
  const bricks_block_copy bad[] = {swap_out(6, 0, 4)};
  EXPECT_THROW(dev.copy_kv(bad, 1), std::out_of_range);
}

}  // namespace
}  // namespace bricks::testing
