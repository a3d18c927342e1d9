#include "tier/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace bricks::tier {
namespace {

// The check value every CRC-32C implementation gives for "123456789" (RFC 3720 and the
// CRC catalogue), and the iSCSI test vectors of RFC 3720 B.4.
TEST(Crc32c, KnownVectors) {
  const char* digits = "123456789";
  EXPECT_EQ(crc32c(digits, 9), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(digits, 9), 0xE3069283u);
  std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xFF), ascending(32);
  for (int i = 0; i < 32; ++i) ascending[static_cast<size_t>(i)] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

// The fast path and the table agree on every length and alignment, and a CRC continued
// over two pieces equals the CRC of the whole.
TEST(Crc32c, FastPathMatchesTheTableAndContinues) {
  std::mt19937 rng(7);
  std::vector<unsigned char> bytes(4099);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 64, 1000, 4091}) {
      EXPECT_EQ(crc32c(bytes.data() + offset, len), crc32c_portable(bytes.data() + offset, len))
          << "offset " << offset << " len " << len;
    }
  }
  const uint32_t whole = crc32c(bytes.data(), bytes.size());
  EXPECT_EQ(crc32c(bytes.data() + 1000, bytes.size() - 1000, crc32c(bytes.data(), 1000)), whole);
  bytes[2000] ^= 1;
  EXPECT_NE(crc32c(bytes.data(), bytes.size()), whole);
}

}  // namespace
}  // namespace bricks::tier
