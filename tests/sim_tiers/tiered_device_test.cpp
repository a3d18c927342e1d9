// SimDevice with tiers: host-tier blocks past the host-memory part are on the SSD and
// their copies are charged at its rates; streamed weights are counted per tier.
#include <gtest/gtest.h>

#include <vector>

#include "engine/sim_device.h"
#include "report/report_tiers.h"
#include "tiers_test_support.h"

namespace bricks::testing {
namespace {

// The four-layer model's KV: 8 KV heads of 128, f16, 16-token blocks: 65,536 B a block.
engine::KvShape four_layer_shape() { return engine::KvShape{4, 8, 128, 16, BRICKS_DTYPE_F16}; }

bricks_block_copy copy(bricks_tier src_tier, int32_t src, bricks_tier dst_tier, int32_t dst,
                       int32_t blocks) {
  bricks_block_copy c{};
  c.src_tier = src_tier;
  c.src_block = src;
  c.dst_tier = dst_tier;
  c.dst_block = dst;
  c.num_blocks = blocks;
  return c;
}

sim::WeightTierOptions ssd_only() {
  sim::WeightTierOptions o;
  o.ssd = round_ssd();
  return o;
}

// Two blocks (32 tokens) of one layer's K: 32 x 8 x 128 x 2 = 65,536 B. Over PCIe:
// 8 transfers (K and V of 4 layers) of 10 us + 6.5536 us; to the SSD at 1 GB/s: 8 of
// 100 us + 65.536 us; from it at 2 GB/s: 8 of 100 us + 32.768 us.
constexpr double kTwoBlocksHostS = 8 * 16.5536e-6;
constexpr double kTwoBlocksSsdWriteS = 8 * 165.536e-6;
constexpr double kTwoBlocksSsdReadS = 8 * 132.768e-6;

TEST(TieredDevice, HostTierBlocksPastHostMemoryAreChargedAtSsdRates) {
  engine::KvPool pool(four_layer_shape(), 64, 8, false);
  engine::SimDeviceOptions so;
  so.host_memory_kv_bytes = 2 * static_cast<int64_t>(four_layer_shape().block_bytes());
  engine::SimDevice dev(four_layer_cost_model(ssd_only()), so);
  dev.bind(pool);
  // Four blocks out to host ids 0..3: 0 and 1 in host memory, 2 and 3 on the SSD.
  const bricks_block_copy out = copy(BRICKS_TIER_DEVICE, 10, BRICKS_TIER_HOST, 0, 4);
  dev.copy_kv(&out, 1);
  EXPECT_NEAR(dev.totals().swap_s, kTwoBlocksHostS + kTwoBlocksSsdWriteS, 1e-12);
  EXPECT_NEAR(dev.totals().kv_host_s, kTwoBlocksHostS, 1e-12);
  EXPECT_NEAR(dev.totals().kv_ssd_s, kTwoBlocksSsdWriteS, 1e-12);
  EXPECT_EQ(dev.totals().kv_host_bytes, 2 * 262144.0);
  EXPECT_EQ(dev.totals().kv_ssd_bytes, 2 * 262144.0);
  // Back in from the SSD's part alone: read rate.
  const bricks_block_copy in = copy(BRICKS_TIER_HOST, 2, BRICKS_TIER_DEVICE, 20, 2);
  dev.copy_kv(&in, 1);
  EXPECT_NEAR(dev.totals().kv_ssd_s, kTwoBlocksSsdWriteS + kTwoBlocksSsdReadS, 1e-12);
  EXPECT_NEAR(dev.clock().now(), dev.totals().swap_s, 1e-15);  // no overlap: before compute
}

TEST(TieredDevice, WithoutADiskTierEveryHostBlockIsInHostMemory) {
  engine::KvPool pool(four_layer_shape(), 64, 8, false);
  engine::SimDevice dev(four_layer_cost_model({}), {});
  dev.bind(pool);
  const bricks_block_copy out = copy(BRICKS_TIER_DEVICE, 10, BRICKS_TIER_HOST, 0, 4);
  dev.copy_kv(&out, 1);
  // One run of 64 tokens: 8 transfers of 10 us + 13.1072 us, as before tiers.
  EXPECT_NEAR(dev.totals().swap_s, 8 * 23.1072e-6, 1e-12);
  EXPECT_EQ(dev.totals().kv_ssd_bytes, 0);
  EXPECT_FALSE(engine::tier_report(dev).present);
}

TEST(TieredDevice, StreamedWeightsAreCountedPerTierAndReported) {
  sim::WeightTierOptions o;
  o.gpu_weight_bytes = kFixedBytes + 3 * kLayerBytes;
  o.host_memory_bytes = 2 * kLayerBytes;
  o.ssd = round_ssd();
  o.overlap = true;
  engine::KvPool pool(four_layer_shape(), 64, 8, false);
  engine::SimDevice dev(four_layer_cost_model(o), {});
  dev.bind(pool);
  engine::Request request;
  engine::ForwardBatch batch;
  batch.clear();
  batch.requests.push_back(&request);
  batch.token_ids.push_back(5);
  batch.positions.push_back(999);
  batch.slots.push_back(0);
  batch.qo_indptr.push_back(1);
  batch.logit_rows.push_back(0);
  std::vector<float> logits;
  dev.forward(batch, bricks_page_table{}, logits);
  dev.forward(batch, bricks_page_table{}, logits);
  EXPECT_EQ(dev.totals().weight_host_bytes, 2 * 2 * kLayerBytes);
  EXPECT_EQ(dev.totals().weight_ssd_bytes, 2 * kLayerBytes);
  EXPECT_NEAR(dev.totals().parts.weight_transfer_s, 2 * dev.last_step().weight_transfer_s, 1e-12);
  EXPECT_NEAR(dev.clock().now(), 2 * dev.last_step().total_s, 1e-12);

  const engine::TierReport r = engine::tier_report(dev);
  ASSERT_TRUE(r.present);
  EXPECT_EQ(r.ssd, "round-ssd");
  EXPECT_EQ(r.gpu_layers, 1);
  EXPECT_EQ(r.host_layers, 2);
  EXPECT_EQ(r.ssd_layers, 1);
  EXPECT_EQ(r.to_json()["placement"]["ssd"]["layers"], 1);
  EXPECT_EQ(r.to_json()["weights_streamed"]["ssd_bytes"], 2 * kLayerBytes);
  const std::string table = r.to_table();
  EXPECT_NE(table.find("1 layers on GPU"), std::string::npos) << table;
  EXPECT_NE(table.find("1 on SSD round-ssd"), std::string::npos) << table;
}

}  // namespace
}  // namespace bricks::testing
