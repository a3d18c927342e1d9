// The copy thread (engine/kv_copier.h) moves exactly what KvPool::copy moves, each layer is
// in place once its wait returns, a bad copy is refused before anything moves, and jobs
// run in the order they were started.
#include "engine/kv_copier.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

namespace bricks::engine {
namespace {

constexpr int32_t kLayers = 4, kDeviceBlocks = 12, kHostBlocks = 10;

KvShape shape() { return KvShape{kLayers, 2, 8, 4, BRICKS_DTYPE_F32}; }

size_t layer_bytes() { return shape().token_bytes_per_layer() / 2 * 4 * kDeviceBlocks; }

// Every device slot of every layer holds values from `seed`.
void fill(KvPool& pool, uint32_t seed) {
  const KvShape s = pool.shape();
  const int64_t slots = static_cast<int64_t>(kDeviceBlocks) * s.block_size;
  const int64_t row = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> k(static_cast<size_t>(slots * row)), v(k.size());
  std::vector<int32_t> ids(static_cast<size_t>(slots));
  for (int32_t i = 0; i < slots; ++i) ids[static_cast<size_t>(i)] = i;
  for (int32_t l = 0; l < s.num_layers; ++l) {
    for (auto& x : k) x = u(rng);
    for (auto& x : v) x = u(rng);
    pool.write(l, k.data(), v.data(), ids.data(), slots);
  }
}

bool same_layer(const KvPool& a, const KvPool& b, int32_t layer) {
  return std::memcmp(a.k(layer), b.k(layer), layer_bytes()) == 0 &&
         std::memcmp(a.v(layer), b.v(layer), layer_bytes()) == 0;
}

bricks_block_copy run(bricks_tier from, int32_t src, bricks_tier to, int32_t dst, int32_t n) {
  return bricks_block_copy{from, src, to, dst, n};
}

// Swap-outs, swap-ins that read what the swap-outs just wrote, and a device-to-device copy.
std::vector<bricks_block_copy> chained_copies() {
  return {run(BRICKS_TIER_DEVICE, 0, BRICKS_TIER_HOST, 0, 3),
          run(BRICKS_TIER_DEVICE, 5, BRICKS_TIER_HOST, 3, 2),
          run(BRICKS_TIER_HOST, 0, BRICKS_TIER_DEVICE, 8, 3),
          run(BRICKS_TIER_HOST, 3, BRICKS_TIER_DEVICE, 0, 2),
          run(BRICKS_TIER_DEVICE, 8, BRICKS_TIER_DEVICE, 11, 1)};
}

TEST(KvCopier, MovesWhatKvPoolCopyMoves) {
  KvPool want(shape(), kDeviceBlocks, kHostBlocks), got(shape(), kDeviceBlocks, kHostBlocks);
  fill(want, 7);
  fill(got, 7);
  const auto copies = chained_copies();
  const size_t bytes = want.copy(copies.data(), static_cast<int32_t>(copies.size()));
  KvCopier copier(got);
  EXPECT_EQ(copier.start(copies.data(), static_cast<int32_t>(copies.size())), bytes);
  copier.finish();
  for (int32_t l = 0; l < kLayers; ++l) EXPECT_TRUE(same_layer(want, got, l)) << "layer " << l;
  const KvCopyTime t = copier.time();
  EXPECT_LE(t.hidden_s, t.total_s);
}

TEST(KvCopier, EachLayerIsInPlaceWhenItsWaitReturns) {
  KvPool want(shape(), kDeviceBlocks, kHostBlocks), got(shape(), kDeviceBlocks, kHostBlocks);
  fill(want, 3);
  fill(got, 3);
  const auto copies = chained_copies();
  want.copy(copies.data(), static_cast<int32_t>(copies.size()));
  KvCopier copier(got);
  copier.start(copies.data(), static_cast<int32_t>(copies.size()));
  for (int32_t l = 0; l < kLayers; ++l) {
    copier.wait_layer(l);
    EXPECT_TRUE(same_layer(want, got, l)) << "layer " << l;
  }
}

TEST(KvCopier, BadCopyIsRefusedBeforeAnythingMoves) {
  KvPool before(shape(), kDeviceBlocks, kHostBlocks), pool(shape(), kDeviceBlocks, kHostBlocks);
  fill(before, 5);
  fill(pool, 5);
  KvCopier copier(pool);
  const std::vector<bricks_block_copy> bad = {
      run(BRICKS_TIER_DEVICE, 0, BRICKS_TIER_DEVICE, 4, 2),
      run(BRICKS_TIER_DEVICE, 0, BRICKS_TIER_HOST, kHostBlocks - 1, 2)};  // runs past the end
  EXPECT_THROW(copier.start(bad.data(), 2), std::out_of_range);
  copier.finish();
  for (int32_t l = 0; l < kLayers; ++l) EXPECT_TRUE(same_layer(before, pool, l));

  // The copier goes on working after the refusal.
  const auto copies = chained_copies();
  before.copy(copies.data(), static_cast<int32_t>(copies.size()));
  copier.start(copies.data(), static_cast<int32_t>(copies.size()));
  copier.finish();
  for (int32_t l = 0; l < kLayers; ++l) EXPECT_TRUE(same_layer(before, pool, l));
}

TEST(KvCopier, JobsRunInTheOrderStarted) {
  KvPool pool(shape(), kDeviceBlocks, kHostBlocks), want(shape(), kDeviceBlocks, kHostBlocks);
  fill(pool, 9);
  fill(want, 9);
  // Out to the host, then back to another device block: the second job reads what the
  // first wrote, and the caller never waits in between.
  const bricks_block_copy out = run(BRICKS_TIER_DEVICE, 1, BRICKS_TIER_HOST, 6, 2);
  const bricks_block_copy back = run(BRICKS_TIER_HOST, 6, BRICKS_TIER_DEVICE, 9, 2);
  want.copy(&out, 1);
  want.copy(&back, 1);
  {
    KvCopier copier(pool);
    copier.start(&out, 1);
    copier.start(&back, 1);
  }  // the destructor waits for the last job
  for (int32_t l = 0; l < kLayers; ++l) EXPECT_TRUE(same_layer(want, pool, l)) << "layer " << l;
}

}  // namespace
}  // namespace bricks::engine
