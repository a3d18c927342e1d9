// Balanced k-means of neurons on activation patterns: planted groups of co-active neurons
// come back as clusters, sizes are balanced, the result is a deterministic permutation.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine/neuron_calibrate.h"

namespace bricks::testing {
namespace {

// 48 neurons in 4 planted groups (neuron i is in group (i * 7) % 4, so groups interleave);
// each token activates one group fully plus a little noise.
std::vector<uint8_t> planted(int32_t tokens, int32_t ffn, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<uint8_t> a(static_cast<size_t>(tokens * ffn), 0);
  for (int32_t t = 0; t < tokens; ++t) {
    const int32_t g = t % 4;
    for (int32_t i = 0; i < ffn; ++i) {
      const bool in_group = (i * 7) % 4 == g;
      a[t * ffn + i] = in_group || rng() % 20 == 0 ? 1 : 0;
    }
  }
  return a;
}

TEST(Clustering, RecoversPlantedGroups) {
  const int32_t tokens = 64, ffn = 48;
  const auto a = planted(tokens, ffn, 3);
  const engine::LayerPartition p = engine::cluster_neurons(a, tokens, ffn, 4, 20, 1);
  ASSERT_EQ(p.offsets, (std::vector<int32_t>{0, 12, 24, 36, 48}));
  for (int32_t c = 0; c < 4; ++c) {
    std::set<int32_t> groups;
    for (int32_t j = p.offsets[c]; j < p.offsets[c + 1]; ++j) groups.insert((p.order[j] * 7) % 4);
    EXPECT_EQ(groups.size(), 1u) << "cluster " << c << " mixes planted groups";
  }
}

TEST(Clustering, BalancedPermutationAndDeterministic) {
  const int32_t tokens = 40, ffn = 50;
  std::mt19937 rng(9);
  std::vector<uint8_t> a(static_cast<size_t>(tokens * ffn));
  for (auto& x : a) x = rng() % 3 == 0 ? 1 : 0;
  const engine::LayerPartition p = engine::cluster_neurons(a, tokens, ffn, 8, 10, 5);
  // 50 = 8 * 6 + 2: two clusters of 7, six of 6.
  ASSERT_EQ(p.offsets.size(), 9u);
  for (int32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(p.offsets[c + 1] - p.offsets[c], c < 2 ? 7 : 6) << "cluster " << c;
  }
  std::set<int32_t> seen(p.order.begin(), p.order.end());
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 49);
  const engine::LayerPartition again = engine::cluster_neurons(a, tokens, ffn, 8, 10, 5);
  EXPECT_EQ(again.order, p.order);
}

TEST(Clustering, BadClusterCountIsAnError) {
  const std::vector<uint8_t> a(10 * 4, 1);
  EXPECT_THROW(engine::cluster_neurons(a, 10, 4, 5, 3, 1), engine::PartitionError);
  EXPECT_THROW(engine::cluster_neurons(a, 10, 4, 0, 3, 1), engine::PartitionError);
}

}  // namespace
}  // namespace bricks::testing
