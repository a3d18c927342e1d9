#include "tier/disk_block_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "scratch_dir.h"

namespace bricks::tier {
namespace {

using bricks::testing::scratch_dir;

// Random bytes for `n` blocks of `bytes` each, different per seed.
std::vector<std::vector<char>> random_blocks(int n, int64_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<char>> out(static_cast<size_t>(n), std::vector<char>(bytes));
  for (auto& b : out) {
    for (auto& c : b) c = static_cast<char>(rng());
  }
  return out;
}

class DiskTierRoundTrip : public ::testing::TestWithParam<IoBackend> {
 protected:
  DiskTierOptions options(int64_t block_bytes, int32_t blocks, int32_t depth) const {
    DiskTierOptions o;
    o.dir = scratch_dir("bricks-tier");
    o.block_bytes = block_bytes;
    o.num_blocks = blocks;
    o.queue_depth = depth;
    o.backend = GetParam();
    return o;
  }
};

// Blocks whose size is no multiple of 4 KiB, written with several transfers in flight and
// read back in another order, come back byte for byte; rewriting a block replaces it.
TEST_P(DiskTierRoundTrip, BlocksComeBackAsWritten) {
  const int64_t bytes = 10000;  // padded to a 12 KiB slot
  DiskBlockFile file(options(bytes, 48, 8));
  EXPECT_EQ(file.slot_bytes(), 12288);
  auto data = random_blocks(48, bytes, 1);
  std::vector<BlockWrite> writes;
  for (int b = 0; b < 48; ++b) writes.push_back({b, data[static_cast<size_t>(b)].data()});
  for (const BlockResult& r : file.write(writes)) EXPECT_TRUE(r.ok()) << r.error;

  auto fresh = random_blocks(4, bytes, 2);
  std::vector<BlockWrite> rewrites;
  for (int i = 0; i < 4; ++i) {
    const int b = 10 * i + 3;
    data[static_cast<size_t>(b)] = fresh[static_cast<size_t>(i)];
    rewrites.push_back({b, data[static_cast<size_t>(b)].data()});
  }
  for (const BlockResult& r : file.write(rewrites)) EXPECT_TRUE(r.ok()) << r.error;

  std::vector<int> order(48);
  for (int i = 0; i < 48; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  std::vector<std::vector<char>> back(48, std::vector<char>(bytes, 0));
  std::vector<BlockRead> reads;
  for (int b : order) reads.push_back({b, back[static_cast<size_t>(b)].data()});
  const auto results = file.read(reads);
  ASSERT_EQ(results.size(), 48u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].block, order[i]);
    EXPECT_TRUE(results[i].ok()) << results[i].error;
  }
  for (int b = 0; b < 48; ++b) {
    EXPECT_EQ(back[static_cast<size_t>(b)], data[static_cast<size_t>(b)]) << "block " << b;
  }
  EXPECT_EQ(file.counters().blocks_written, 52);
  EXPECT_EQ(file.counters().blocks_read, 48);
  EXPECT_EQ(file.counters().checksum_failures, 0);
}

// The store says which back end runs, and with io_uring wanted either runs it or says why
// not; the file is gone from the directory while the store is open and after.
TEST_P(DiskTierRoundTrip, DescribesItsBackEndAndLeavesNoFile) {
  const auto o = options(4096, 4, 2);
  {
    DiskBlockFile file(o);
    const std::string d = file.describe();
    if (GetParam() == IoBackend::kSync) {
      EXPECT_EQ(d.rfind("pread/pwrite, ", 0), 0u) << d;
    } else {
      EXPECT_TRUE(d.rfind("io_uring, ", 0) == 0 || d.rfind("pread/pwrite (io_uring", 0) == 0) << d;
    }
    EXPECT_NE(d.find("depth 2"), std::string::npos) << d;
    EXPECT_FALSE(std::filesystem::exists(file.path()));
  }
  EXPECT_TRUE(std::filesystem::is_empty(o.dir));
}

INSTANTIATE_TEST_SUITE_P(Backends, DiskTierRoundTrip,
                         ::testing::Values(IoBackend::kUring, IoBackend::kSync),
                         [](const ::testing::TestParamInfo<IoBackend>& info) {
                           return std::string(info.param == IoBackend::kUring ? "uring" : "sync");
                         });

}  // namespace
}  // namespace bricks::tier
