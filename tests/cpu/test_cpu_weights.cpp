// Weights memory: moving mapped model bytes to huge pages in place (prefault_huge).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cpu/weights.h"
#include "scratch_dir.h"

namespace bricks::cpu {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// The permissions /proc/self/maps lists for the mapping that holds `p` ("r--p", ...).
std::string permissions_at(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    const size_t dash = range.find('-');
    const uintptr_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (lo <= at && at < hi) return perms;
  }
  return "";
}

// A private read-only mapping of a 9 MiB file keeps its address and every byte when its whole
// 2 MiB pages move to anonymous memory, stays read-only, and the bytes at its unaligned edges
// stay as they were.
TEST(CpuWeights, PrefaultHugeKeepsAddressesBytesAndReadOnly) {
  const auto path = testing::scratch_dir("bricks-cpu-weights-test") / "weights.bin";
  const size_t size = 9 * kMiB + 123;
  std::vector<unsigned char> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>((i * 2654435761u) >> 13);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  const auto* base = static_cast<const unsigned char*>(map);

  const size_t offset = 4096 + 77, length = size - offset - 1000;
  const size_t moved = prefault_huge(base + offset, length);
  EXPECT_EQ(moved % (2 * kMiB), 0u);
  EXPECT_LE(moved, length);
  for (size_t i = 0; i < size; ++i) {
    ASSERT_EQ(base[i], bytes[i]) << "byte " << i << " after moving " << moved << " bytes";
  }
  EXPECT_EQ(permissions_at(base + size / 2).substr(0, 3), "r--");
  EXPECT_EQ(prefault_huge(nullptr, 10), 0u);
  EXPECT_EQ(prefault_huge(base, 0), 0u);
  ::munmap(map, size);
}

}  // namespace
}  // namespace bricks::cpu
