// Chained 64-bit hash of full KV blocks: the key of kv/paged's prefix cache and of
// kv/prefix_tree's tree nodes.
//
// A block's hash covers its parent's hash and its own token ids, so equal hashes mean equal
// prefixes up to a 64-bit collision; both bricks also compare the token ids held per cached
// block before reporting a hit.
#pragma once

#include <cstdint>

namespace bricks::kvc {

// The parent hash of a request's first block.
inline constexpr uint64_t kRootHash = 0x6a09e667f3bcc908ULL;

namespace hash_detail {
inline constexpr uint64_t kP1 = 0x9e3779b185ebca87ULL;
inline constexpr uint64_t kP2 = 0xc2b2ae3d27d4eb4fULL;
inline constexpr uint64_t kP3 = 0x165667b19e3779f9ULL;

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Final avalanche: every input bit affects every output bit.
constexpr uint64_t finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

constexpr uint64_t absorb(uint64_t h, uint64_t word) {
  h ^= rotl(word * kP2, 31) * kP1;
  return rotl(h, 27) * kP1 + kP3;
}
}  // namespace hash_detail

// Hash of a block holding tokens[0, count) whose parent block hashed to `parent`.
inline uint64_t block_hash(uint64_t parent, const int32_t* tokens, int32_t count) {
  using namespace hash_detail;
  uint64_t h = absorb(parent ^ kP3, static_cast<uint64_t>(count));
  int32_t i = 0;
  for (; i + 1 < count; i += 2) {
    const uint64_t word = static_cast<uint32_t>(tokens[i]) |
                          (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i + 1])) << 32);
    h = absorb(h, word);
  }
  if (i < count) h = absorb(h, static_cast<uint32_t>(tokens[i]) | (1ULL << 40));
  return finish(h);
}

}  // namespace bricks::kvc
