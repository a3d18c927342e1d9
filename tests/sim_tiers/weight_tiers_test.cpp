// Placement of the weights in GPU memory, host memory and the SSD, each layer's transfer
// time, and the layer pipeline with and without overlap, on hand-picked numbers.
#include <gtest/gtest.h>

#include <vector>

#include "sim/weight_tiers.h"
#include "tiers_test_support.h"

namespace bricks::testing {
namespace {

using sim::WeightTier;

sim::WeightShape four_layers() {
  sim::WeightShape s;
  s.layers = 4;
  s.layer_bytes = kLayerBytes;
  s.fixed_bytes = kFixedBytes;
  s.model = "four-layer";
  return s;
}

TEST(WeightPlacement, AllResidentWhenTheWeightsFit) {
  const sim::WeightPlacement p =
      sim::place_weights(four_layers(), kFixedBytes + 4 * kLayerBytes, sim::WeightTierOptions{});
  EXPECT_FALSE(p.streams());
  EXPECT_EQ(p.gpu_layers, 4);
  EXPECT_EQ(p.staging_bytes, 0);
  EXPECT_EQ(p.gpu_bytes(), kFixedBytes + 4 * kLayerBytes);
}

TEST(WeightPlacement, ResidentThenHostThenSsdSpreadEvenly) {
  sim::WeightTierOptions o;
  o.host_kv_bytes = 1000;
  o.host_memory_bytes = 2 * kLayerBytes + 1000 + 10;  // two layers beside the KV tier
  o.ssd = round_ssd();
  // The fixed part, two staging buffers and one resident layer, with 100 bytes to spare.
  const sim::WeightPlacement p =
      sim::place_weights(four_layers(), kFixedBytes + 3 * kLayerBytes + 100, o);
  EXPECT_EQ(p.gpu_layers, 1);
  EXPECT_EQ(p.host_layers, 2);
  EXPECT_EQ(p.ssd_layers, 1);
  // Three of four layers stream: layer l streams when floor((l+1)*3/4) > floor(l*3/4).
  EXPECT_EQ(p.layers, (std::vector<WeightTier>{WeightTier::kGpu, WeightTier::kHost,
                                               WeightTier::kHost, WeightTier::kSsd}));
  EXPECT_EQ(p.staging_bytes, 2 * kLayerBytes);
  EXPECT_EQ(p.gpu_bytes(), kFixedBytes + 3 * kLayerBytes);
  EXPECT_EQ(p.host_bytes(), 2 * kLayerBytes);
  EXPECT_EQ(p.ssd_bytes(), kLayerBytes);
}

TEST(WeightPlacement, TensorParallelHostMemoryHoldsEveryGpusShare) {
  sim::WeightShape s = four_layers();
  s.tensor_parallel = 2;
  sim::WeightTierOptions o;
  o.host_memory_bytes = 2 * kLayerBytes;  // one whole layer: two GPUs' shares
  o.ssd = round_ssd();
  const sim::WeightPlacement p = sim::place_weights(s, kFixedBytes + 2 * kLayerBytes, o);
  EXPECT_EQ(p.gpu_layers, 0);
  EXPECT_EQ(p.host_layers, 1);
  EXPECT_EQ(p.ssd_layers, 3);
  EXPECT_EQ(p.ssd_bytes(), 3 * 2 * kLayerBytes);
}

TEST(WeightPlacement, ErrorsNameTheSettingTheSizesAndTheFix) {
  sim::WeightTierOptions o;
  o.gpu_weight_bytes = 1;
  try {
    sim::place_weights(four_layers(), kFixedBytes + 2 * kLayerBytes - 1, o);
    FAIL() << "a budget below the fixed part and two buffers was accepted";
  } catch (const sim::TierError& e) {
    EXPECT_EQ(e.field(), "weight_memory_bytes");
    EXPECT_NE(std::string(e.what()).find("at least 71215104"), std::string::npos) << e.what();
  }
  o.host_memory_bytes = kLayerBytes;  // one of the three streamed layers
  try {
    sim::place_weights(four_layers(), kFixedBytes + 3 * kLayerBytes, o);
    FAIL() << "layers left for a missing SSD were accepted";
  } catch (const sim::TierError& e) {
    EXPECT_EQ(e.field(), "ssd");
    const std::string what = e.what();
    EXPECT_NE(what.find("2 layers"), std::string::npos) << what;
    EXPECT_NE(what.find("set device.ssd"), std::string::npos) << what;
    EXPECT_NE(what.find("host_memory_bytes to at least 100675584"), std::string::npos) << what;
  }
  o.host_kv_bytes = 2 * kLayerBytes;
  try {
    sim::place_weights(four_layers(), kFixedBytes + 3 * kLayerBytes, o);
    FAIL() << "host memory below the host KV tier was accepted";
  } catch (const sim::TierError& e) {
    EXPECT_EQ(e.field(), "host_memory_bytes");
  }
}

TEST(LayerTransfer, HostAtPcieSsdAtTheSlowerOfSsdAndPcie) {
  const std::optional<sim::SsdSpec> ssd = round_ssd();
  // 10 us + 33,558,528 B / 10 GB/s.
  EXPECT_NEAR(sim::layer_transfer_seconds(WeightTier::kHost, kLayerBytes, 1, 10e9, 10e-6, ssd),
              3365.8528e-6, 1e-12);
  // 100 us + 33,558,528 B / 2 GB/s: the SSD is slower than PCIe.
  EXPECT_NEAR(sim::layer_transfer_seconds(WeightTier::kSsd, kLayerBytes, 1, 10e9, 10e-6, ssd),
              16879.264e-6, 1e-12);
  // With tp 2 the SSD serves both GPUs' shares.
  EXPECT_NEAR(sim::layer_transfer_seconds(WeightTier::kSsd, kLayerBytes, 2, 10e9, 10e-6, ssd),
              33658.528e-6, 1e-12);
  EXPECT_EQ(sim::layer_transfer_seconds(WeightTier::kGpu, kLayerBytes, 1, 10e9, 10e-6, ssd), 0);
}

TEST(LayerPipeline, WithoutOverlapTransfersAddToCompute) {
  const std::vector<double> t = {0, 3, 0, 3};
  const sim::LayerPipeline p = sim::layer_pipeline(t, 2, false);
  EXPECT_EQ(p.seconds, 14);
  EXPECT_EQ(p.transfer_s, 6);
  EXPECT_EQ(p.hidden_s, 0);
}

TEST(LayerPipeline, OverlapHidesTransfersBehindEarlierLayers) {
  // Layer 0 computes 0..2; layer 1 arrives at 3, computes 3..5; layer 2 computes 5..7;
  // layer 3's copy starts when the engine is free (3), arrives at 6, computes 7..9.
  const std::vector<double> t = {0, 3, 0, 3};
  const sim::LayerPipeline p = sim::layer_pipeline(t, 2, true);
  EXPECT_EQ(p.seconds, 9);
  EXPECT_EQ(p.transfer_s, 6);
  EXPECT_EQ(p.hidden_s, 5);  // 8 of compute + 6 of copies - 9
}

TEST(LayerPipeline, AllStreamedIsFirstTransferThenTheSlowerPerLayerThenLastCompute) {
  // t + (n - 1) * max(t, c) + c, transfer-bound and compute-bound.
  EXPECT_EQ(sim::layer_pipeline(std::vector<double>(4, 3), 2, true).seconds, 3 + 3 * 3 + 2);
  EXPECT_EQ(sim::layer_pipeline(std::vector<double>(4, 1), 2, true).seconds, 1 + 3 * 2 + 2);
}

TEST(LayerPipeline, TwoStagingBuffersHoldTheCopyEngineBack) {
  // Compute-bound: the third copy waits for layer 0 to free its buffer at 6.
  const std::vector<double> t = {1, 1, 1};
  const sim::LayerPipeline p = sim::layer_pipeline(t, 5, true);
  EXPECT_EQ(p.seconds, 16);  // 1 + 5 + 5 + 5: every copy but the first hidden
  EXPECT_EQ(p.hidden_s, 2);
}

}  // namespace
}  // namespace bricks::testing
