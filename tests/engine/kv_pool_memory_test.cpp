// The KV pools' memory (engine/zero_pages.h): zeros until written, and resident only where
// written, so a large pool costs nothing until its blocks are used.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <utility>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/zero_pages.h"

namespace bricks::engine {
namespace {

// Resident bytes of this process (/proc/self/statm). ThreadSanitizer maps shadow memory
// beside every mapping it sees, so there the growth is not the pool's: 0 always.
int64_t resident_bytes() {
#if defined(__SANITIZE_THREAD__)
  return 0;
#else
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
#endif
}

// How many pages of [p, p + bytes) are resident (mincore).
size_t resident_pages(const void* p, size_t bytes) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((bytes + page - 1) / page);
  if (mincore(const_cast<void*>(p), bytes, in.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n;
}

TEST(ZeroPages, ReadsZeroUntilWrittenAndMovesOwnership) {
  ZeroPages pages(1 << 20);
  ASSERT_NE(pages.data(), nullptr);
  EXPECT_EQ(pages.size(), size_t{1} << 20);
  for (size_t i = 0; i < pages.size(); i += 4093) EXPECT_EQ(pages.data()[i], std::byte{0});
  pages.data()[12345] = std::byte{7};
  std::byte* at = pages.data();
  ZeroPages moved(std::move(pages));
  EXPECT_EQ(pages.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_EQ(pages.size(), 0u);
  EXPECT_EQ(moved.data(), at);
  EXPECT_EQ(moved.data()[12345], std::byte{7});
  ZeroPages other(4096);
  other = std::move(moved);
  EXPECT_EQ(other.data()[12345], std::byte{7});
  EXPECT_EQ(ZeroPages(0).data(), nullptr);
}

TEST(KvPoolMemory, ALargePoolIsResidentOnlyWhereWritten) {
  // 2 layers x 8 KiB blocks x 65536 blocks: 2 GiB of device blocks.
  const KvShape shape{2, 4, 64, 16, BRICKS_DTYPE_F16};
  const int64_t before = resident_bytes();
  KvPool pool(shape, 65536, 0, true, std::nullopt);
  const int64_t pool_bytes = static_cast<int64_t>(shape.block_bytes()) * 65536;
  ASSERT_EQ(pool_bytes, int64_t{1} << 31);
  EXPECT_LT(resident_bytes() - before, 64 << 20);

  // One token written to the last block of layer 1 reads back; the rest of it is zero.
  const int64_t row = shape.num_kv_heads * shape.head_dim;
  std::vector<float> k(static_cast<size_t>(row), 1.5f), v(static_cast<size_t>(row), -2.0f);
  const int32_t slot = 65535 * shape.block_size + 3;
  pool.write(1, k.data(), v.data(), &slot, 1);
  const auto* kb = static_cast<const uint16_t*>(pool.k(1));
  const auto* vb = static_cast<const uint16_t*>(pool.v(1));
  EXPECT_EQ(kb[slot * row], 0x3E00);      // 1.5 in f16
  EXPECT_EQ(vb[slot * row + 5], 0xC000);  // -2 in f16
  EXPECT_EQ(kb[(slot - 1) * row], 0);
  EXPECT_EQ(static_cast<const uint16_t*>(pool.k(0))[slot * row], 0);
  EXPECT_LT(resident_bytes() - before, 64 << 20);
}

TEST(KvPoolMemory, FaultInMakesEveryDeviceBlockResidentAndLeavesItZero) {
  const KvShape shape{2, 4, 64, 16, BRICKS_DTYPE_F16};
  const int32_t blocks = 256;
  KvPool pool(shape, blocks, 0, true, std::nullopt);
  const size_t side = shape.token_bytes_per_layer() / 2 * shape.block_size * blocks;
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(resident_pages(pool.k(1), side), 0u) << "a new pool holds no pages";

  EXPECT_EQ(pool.fault_in(), 2 * 2 * side);
  for (int32_t l = 0; l < shape.num_layers; ++l) {
    EXPECT_EQ(resident_pages(pool.k(l), side), side / page) << "K of layer " << l;
    EXPECT_EQ(resident_pages(pool.v(l), side), side / page) << "V of layer " << l;
  }
  const auto* v1 = static_cast<const std::byte*>(pool.v(1));
  for (size_t i = 0; i < side; i += 1021) ASSERT_EQ(v1[i], std::byte{0}) << "byte " << i;

  // A pool that keeps no bytes (a device with its own memory) has nothing to fault in.
  KvPool counted(shape, blocks, 0, false, std::nullopt);
  EXPECT_EQ(counted.fault_in(), 0u);
}

}  // namespace
}  // namespace bricks::engine
