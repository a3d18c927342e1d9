// The host KV tier over the disk tier (engine/kv_host_tier.h): blocks swapped out beyond host
// memory go to disk and come back with exactly their bytes, host memory keeps the most
// recently used blocks, and a block the disk loses (changed bytes, a full disk) is marked
// with the reason on every block its bytes reach, never handed on as good. Each case runs
// with the copies before compute (KvPool::copy) and on the copy thread (KvCopier).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kv_copier.h"
#include "engine/kv_pool.h"
#include "file_size_limit.h"
#include "scratch_dir.h"

namespace bricks::engine {
namespace {

using bricks::testing::FileSizeLimit;

constexpr int32_t kLayers = 3, kDeviceBlocks = 10;

KvShape shape() { return KvShape{kLayers, 2, 8, 4, BRICKS_DTYPE_F32}; }
size_t half_bytes() { return shape().token_bytes_per_layer() / 2 * shape().block_size; }

tier::DiskTierOptions disk(int32_t blocks, bool preallocate = true) {
  tier::DiskTierOptions o;
  o.dir = bricks::testing::scratch_dir("bricks-kv-disk-tier");
  o.num_blocks = blocks;
  o.queue_depth = 4;
  o.preallocate = preallocate;
  return o;
}

// Device block `block` of every layer, K then V.
std::vector<std::byte> device_block(const KvPool& pool, int32_t block) {
  std::vector<std::byte> out;
  for (int32_t l = 0; l < kLayers; ++l) {
    for (const void* base : {pool.k(l), pool.v(l)}) {
      const auto* p = static_cast<const std::byte*>(base) + half_bytes() * block;
      out.insert(out.end(), p, p + half_bytes());
    }
  }
  return out;
}

// Every device slot of every layer holds values from `seed`.
void fill(KvPool& pool, uint32_t seed) {
  const int64_t slots = static_cast<int64_t>(kDeviceBlocks) * shape().block_size;
  const int64_t row = static_cast<int64_t>(shape().num_kv_heads) * shape().head_dim;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> k(static_cast<size_t>(slots * row)), v(k.size());
  std::vector<int32_t> ids(static_cast<size_t>(slots));
  for (int32_t i = 0; i < slots; ++i) ids[static_cast<size_t>(i)] = i;
  for (int32_t l = 0; l < kLayers; ++l) {
    for (auto& x : k) x = u(rng);
    for (auto& x : v) x = u(rng);
    pool.write(l, k.data(), v.data(), ids.data(), slots);
  }
}

bricks_block_copy out(int32_t device, int32_t host, int32_t n = 1) {
  return {BRICKS_TIER_DEVICE, device, BRICKS_TIER_HOST, host, n};
}
bricks_block_copy in(int32_t host, int32_t device, int32_t n = 1) {
  return {BRICKS_TIER_HOST, host, BRICKS_TIER_DEVICE, device, n};
}

// Runs copies directly or on a copy thread, by the test's parameter.
class KvDiskTier : public ::testing::TestWithParam<bool> {
 protected:
  static void copy(KvPool& pool, std::vector<bricks_block_copy> copies) {
    const auto n = static_cast<int32_t>(copies.size());
    if (!GetParam()) {
      pool.copy(copies.data(), n);
      return;
    }
    KvCopier copier(pool);
    copier.start(copies.data(), n);
    copier.finish();
  }
};

TEST_P(KvDiskTier, TheKvBrickSeesHostMemoryAndDiskAsOneHostTier) {
  KvPool pool(shape(), kDeviceBlocks, 2, true, disk(6));
  EXPECT_EQ(pool.num_host_blocks(), 8);
  EXPECT_EQ(pool.num_disk_blocks(), 6);
  ASSERT_NE(pool.disk_file(), nullptr);
  EXPECT_EQ(pool.disk_file()->block_bytes(), static_cast<int64_t>(shape().block_bytes()));
  KvPool plain(shape(), kDeviceBlocks, 2);
  EXPECT_EQ(plain.num_host_blocks(), 2);
  EXPECT_EQ(plain.num_disk_blocks(), 0);
  EXPECT_EQ(plain.disk_file(), nullptr);
}

// Eight blocks out through a host memory of two, one swap at a time (each one evicts) and
// all at once (a job larger than host memory), then back: exactly the bytes that left.
TEST_P(KvDiskTier, BlocksComeBackFromDiskWithExactlyTheirBytes) {
  for (bool one_at_a_time : {true, false}) {
    KvPool pool(shape(), kDeviceBlocks, 2, true, disk(6));
    fill(pool, 11);
    std::vector<std::vector<std::byte>> want;
    for (int32_t b = 0; b < 8; ++b) want.push_back(device_block(pool, b));
    if (one_at_a_time) {
      for (int32_t b = 0; b < 8; ++b) copy(pool, {out(b, b)});
    } else {
      copy(pool, {out(0, 0, 8)});
    }
    EXPECT_EQ(pool.host_tier()->resident().size(), 2u);
    EXPECT_EQ(pool.disk_counters().blocks_written, 6);
    fill(pool, 12);  // the device forgets
    copy(pool, {in(0, 2, 8)});
    for (int32_t b = 0; b < 8; ++b) {
      EXPECT_EQ(device_block(pool, b + 2), want[static_cast<size_t>(b)])
          << "host block " << b << (one_at_a_time ? ", one at a time" : ", all at once");
      EXPECT_EQ(pool.failed_device_block(b + 2), "");
    }
    const KvDiskCounters c = pool.disk_counters();
    EXPECT_EQ(c.blocks_read, 6);
    EXPECT_EQ(c.bytes_read, 6 * pool.disk_file()->slot_bytes());  // whole 4 KiB slots
    EXPECT_EQ(c.failed_reads + c.failed_writes, 0);
    EXPECT_FALSE(pool.any_failed_blocks());
  }
}

// Host memory keeps the blocks used last: a swap-in counts as a use, and the block evicted
// to make room is the one untouched longest.
TEST_P(KvDiskTier, HostMemoryKeepsTheMostRecentlyUsedBlocks) {
  KvPool pool(shape(), kDeviceBlocks, 2, true, disk(4));
  fill(pool, 5);
  copy(pool, {out(0, 0)});
  copy(pool, {out(1, 1)});
  EXPECT_EQ(pool.host_tier()->resident(), (std::vector<int32_t>{1, 0}));
  copy(pool, {in(0, 5)});
  EXPECT_EQ(pool.host_tier()->resident(), (std::vector<int32_t>{0, 1}));
  copy(pool, {out(2, 2)});
  EXPECT_EQ(pool.host_tier()->resident(), (std::vector<int32_t>{2, 0}));
  EXPECT_TRUE(pool.host_tier()->on_disk(1));
  EXPECT_FALSE(pool.host_tier()->on_disk(0));
  EXPECT_EQ(pool.disk_counters().evictions, 1);
  // Writing a block again where it lives on disk brings it back into memory.
  copy(pool, {out(3, 1)});
  EXPECT_FALSE(pool.host_tier()->on_disk(1));
  EXPECT_TRUE(pool.host_tier()->on_disk(0));
}

// Bytes changed on disk under one block: its swap-in marks that device block with the
// checksum reason (and the host block it came from); its neighbours come back intact, and
// a good copy over the block clears its mark.
TEST_P(KvDiskTier, AChangedBlockOnDiskMarksOnlyWhereItsBytesGo) {
  KvPool pool(shape(), kDeviceBlocks, 1, true, disk(4));
  fill(pool, 21);
  std::vector<std::vector<std::byte>> want;
  for (int32_t b = 0; b < 4; ++b) want.push_back(device_block(pool, b));
  copy(pool, {out(0, 0, 4)});
  const int32_t on_disk = pool.host_tier()->disk_block_of(2);
  ASSERT_GE(on_disk, 0);
  const tier::DiskBlockFile& file = *pool.disk_file();
  const int fd = ::open(("/proc/self/fd/" + std::to_string(file.fd())).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::vector<char> junk(16, 'z');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), on_disk * file.slot_bytes() + 100), 16);
  ::close(fd);

  copy(pool, {in(0, 4, 4)});
  EXPECT_NE(pool.failed_device_block(6).find("checksum"), std::string::npos)
      << pool.failed_device_block(6);
  EXPECT_NE(pool.failed_device_block(6).find("host tier block 2"), std::string::npos);
  EXPECT_NE(pool.failed_host_block(2), "");
  for (int32_t b : {0, 1, 3}) {
    EXPECT_EQ(pool.failed_device_block(4 + b), "") << b;
    EXPECT_EQ(device_block(pool, 4 + b), want[static_cast<size_t>(b)]) << b;
  }
  EXPECT_EQ(pool.disk_counters().checksum_failures, 1);
  // The mark follows the bytes: copied on, the copy is marked too.
  copy(pool, {{BRICKS_TIER_DEVICE, 6, BRICKS_TIER_DEVICE, 9, 1}});
  EXPECT_NE(pool.failed_device_block(9), "");
  // Good bytes over the lost block: both marks go.
  copy(pool, {out(0, 2), in(2, 6)});
  EXPECT_EQ(pool.failed_host_block(2), "");
  EXPECT_EQ(pool.failed_device_block(6), "");
  EXPECT_EQ(device_block(pool, 6), want[0]);
  pool.forget_device_failure(9);
  EXPECT_FALSE(pool.any_failed_blocks());
}

// The process may write only a few blocks' worth of file (RLIMIT_FSIZE, as a full disk):
// the swap-outs that reach the disk past it are lost and marked when they come back; the
// ones before it, and those host memory held, come back intact.
TEST_P(KvDiskTier, AFullDiskLosesOnlyTheBlocksPastIt) {
  KvPool pool(shape(), kDeviceBlocks, 2, true, disk(6, false));
  fill(pool, 31);
  std::vector<std::vector<std::byte>> want;
  for (int32_t b = 0; b < 8; ++b) want.push_back(device_block(pool, b));
  {
    // Room for two blocks' slots in the file: disk blocks 0 and 1.
    FileSizeLimit limit(static_cast<rlim_t>(2 * pool.disk_file()->slot_bytes()));
    copy(pool, {out(0, 0, 8)});
  }
  const KvDiskCounters c = pool.disk_counters();
  EXPECT_GT(c.failed_writes, 0);
  EXPECT_EQ(c.blocks_written + c.failed_writes, 6);
  fill(pool, 32);
  copy(pool, {in(0, 2, 8)});
  int lost = 0;
  for (int32_t b = 0; b < 8; ++b) {
    const std::string why = pool.failed_device_block(b + 2);
    if (why.empty()) {
      EXPECT_EQ(device_block(pool, b + 2), want[static_cast<size_t>(b)]) << b;
    } else {
      ++lost;
      EXPECT_NE(why.find("could not be written to the disk tier"), std::string::npos) << why;
    }
  }
  EXPECT_EQ(lost, c.failed_writes);
}

INSTANTIATE_TEST_SUITE_P(DirectAndOnTheCopyThread, KvDiskTier, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "copier" : "direct";
                         });

}  // namespace
}  // namespace bricks::engine
