// Failures of the disk tier stay with the blocks they hit: a block changed or torn on disk
// fails its own read with a reason, a full disk fails the writes past it and nothing else,
// and bad settings are one clear error.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "file_size_limit.h"
#include "scratch_dir.h"
#include "tier/disk_block_file.h"
#include "tier/tier_error.h"

namespace bricks::tier {
namespace {

using bricks::testing::FileSizeLimit;

using bricks::testing::scratch_dir;

DiskTierOptions small_options(int32_t blocks) {
  DiskTierOptions o;
  o.dir = scratch_dir("bricks-tier-failure");
  o.block_bytes = 4096;
  o.num_blocks = blocks;
  o.queue_depth = 4;
  return o;
}

std::vector<char> block_of(char c) { return std::vector<char>(4096, c); }

// Writes blocks 0..n-1 filled with 'a', 'b', ...; expects every write to succeed.
std::vector<std::vector<char>> fill(DiskBlockFile& file, int n) {
  std::vector<std::vector<char>> data;
  std::vector<BlockWrite> writes;
  for (int b = 0; b < n; ++b) data.push_back(block_of(static_cast<char>('a' + b)));
  for (int b = 0; b < n; ++b) writes.push_back({b, data[static_cast<size_t>(b)].data()});
  for (const BlockResult& r : file.write(writes)) EXPECT_TRUE(r.ok()) << r.error;
  return data;
}

std::vector<BlockResult> read_all(DiskBlockFile& file, int n,
                                  std::vector<std::vector<char>>& back) {
  back.assign(static_cast<size_t>(n), std::vector<char>(4096, 0));
  std::vector<BlockRead> reads;
  for (int b = 0; b < n; ++b) reads.push_back({b, back[static_cast<size_t>(b)].data()});
  return file.read(reads);
}

// Bytes changed on disk under one block (another process, a bad sector) and a write torn
// halfway (a killed transfer: the first half new, the rest old) fail those blocks' reads
// with "checksum mismatch"; their neighbours read back intact.
TEST(DiskTierFailure, ChangedAndTornBlocksFailAloneByChecksum) {
  DiskBlockFile file(small_options(4));
  const auto data = fill(file, 4);
  // A second, buffered handle on the (unlinked) file: O_DIRECT takes aligned writes only.
  const int fd = ::open(("/proc/self/fd/" + std::to_string(file.fd())).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::vector<char> junk(16, 'z');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 1 * file.slot_bytes() + 100), 16);
  const std::vector<char> half = block_of('q');
  ASSERT_EQ(::pwrite(fd, half.data(), 2048, 3 * file.slot_bytes()), 2048);
  ::fsync(fd);
  ::close(fd);

  std::vector<std::vector<char>> back;
  const auto results = read_all(file, 4, back);
  EXPECT_TRUE(results[0].ok()) << results[0].error;
  EXPECT_TRUE(results[2].ok()) << results[2].error;
  EXPECT_EQ(back[0], data[0]);
  EXPECT_EQ(back[2], data[2]);
  for (int b : {1, 3}) {
    EXPECT_NE(results[static_cast<size_t>(b)].error.find("block " + std::to_string(b)),
              std::string::npos);
    EXPECT_NE(results[static_cast<size_t>(b)].error.find("checksum mismatch"), std::string::npos)
        << results[static_cast<size_t>(b)].error;
  }
  EXPECT_EQ(file.counters().checksum_failures, 2);

  // Written again, a block is whole again.
  const std::vector<char> again = block_of('n');
  const BlockWrite w{3, again.data()};
  EXPECT_TRUE(file.write({&w, 1})[0].ok());
  std::vector<char> out(4096);
  const BlockRead r{3, out.data()};
  EXPECT_TRUE(file.read({&r, 1})[0].ok());
  EXPECT_EQ(out, again);
}

// A block never written cannot be read: the read says so instead of returning zeros.
TEST(DiskTierFailure, UnwrittenBlockIsAnErrorNotZeros) {
  DiskBlockFile file(small_options(2));
  std::vector<char> out(4096, 'x');
  const BlockRead r{1, out.data()};
  const auto res = file.read({&r, 1});
  EXPECT_NE(res[0].error.find("holds no complete write"), std::string::npos) << res[0].error;
}

// The process may write only a few blocks' worth of file (RLIMIT_FSIZE, as a full disk): a
// file that cannot be reserved is refused at open with the fix, and without reservation
// the writes past the limit fail with the system's reason while the blocks before it read
// back; a failed block reads as "no complete write", never as stale bytes.
TEST(DiskTierFailure, FullDiskFailsAtReserveOrFailsOnlyTheWritesPastIt) {
  {
    FileSizeLimit limit(3 * 4096);
    try {
      DiskBlockFile file(small_options(8));
      ADD_FAILURE() << "a file larger than the limit was reserved";
    } catch (const TierError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cannot reserve"), std::string::npos) << what;
      EXPECT_NE(what.find("lower the disk tier's blocks"), std::string::npos) << what;
    }
  }
  for (IoBackend backend : {IoBackend::kUring, IoBackend::kSync}) {
    DiskTierOptions o = small_options(6);
    o.preallocate = false;
    o.backend = backend;
    DiskBlockFile file(o);
    std::vector<std::vector<char>> data;
    for (int b = 0; b < 6; ++b) data.push_back(block_of(static_cast<char>('a' + b)));
    std::vector<BlockWrite> writes;
    for (int b = 0; b < 6; ++b) writes.push_back({b, data[static_cast<size_t>(b)].data()});
    std::vector<BlockResult> results;
    {
      FileSizeLimit limit(3 * 4096);
      results = file.write(writes);
    }
    for (int b = 0; b < 3; ++b) {
      EXPECT_TRUE(results[static_cast<size_t>(b)].ok()) << results[static_cast<size_t>(b)].error;
    }
    for (int b = 3; b < 6; ++b) {
      EXPECT_NE(results[static_cast<size_t>(b)].error.find("writing block " + std::to_string(b)),
                std::string::npos)
          << file.describe() << ": " << results[static_cast<size_t>(b)].error;
    }
    std::vector<std::vector<char>> back;
    const auto reads = read_all(file, 6, back);
    for (int b = 0; b < 3; ++b) {
      EXPECT_TRUE(reads[static_cast<size_t>(b)].ok());
      EXPECT_EQ(back[static_cast<size_t>(b)], data[static_cast<size_t>(b)]);
    }
    for (int b = 3; b < 6; ++b) {
      EXPECT_NE(reads[static_cast<size_t>(b)].error.find("holds no complete write"),
                std::string::npos);
    }
    EXPECT_EQ(file.counters().failed_writes, 3);
  }
}

TEST(DiskTierFailure, BadSettingsAreOneClearError) {
  DiskTierOptions o = small_options(4);
  o.dir = scratch_dir("bricks-tier-failure") / "missing";
  try {
    DiskBlockFile file(o);
    ADD_FAILURE() << "a missing directory was accepted";
  } catch (const TierError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a directory"), std::string::npos) << e.what();
  }
  o = small_options(0);
  EXPECT_THROW(DiskBlockFile{o}, TierError);
  DiskBlockFile file(small_options(2));
  std::vector<char> buf(4096);
  const BlockWrite outside{2, buf.data()};
  EXPECT_THROW(file.write({&outside, 1}), TierError);
  const BlockRead null_buffer{0, nullptr};
  EXPECT_THROW(file.read({&null_buffer, 1}), TierError);
}

}  // namespace
}  // namespace bricks::tier
