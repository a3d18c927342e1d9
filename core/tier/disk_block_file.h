// The disk tier's store: fixed-size KV blocks in one file on a local disk, below the host
// tier, as Fuyou adds SSD-CPU traffic as a tier of its own. Block b lives at b * slot_bytes
// (the block rounded up to 4 KiB, so that O_DIRECT reads and writes stay aligned); the
// transfers go through aligned staging buffers with queue_depth of them in flight.
//
// Integrity: every block written carries a CRC-32C kept in memory; a read checks it, so a
// torn or lost write (a killed transfer, a full disk, bytes changed underneath) fails that
// block's read with a reason and never hands back another block's bytes or stale ones. A
// write that fails leaves its block unreadable until it is written again; other blocks are
// untouched. The file is a cache: it is created empty and unlinked at once (it lives as long
// as the store, and a process that dies leaves nothing behind).
//
// Thread safety: one thread drives a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tier/io_queue.h"

namespace bricks::tier {

struct DiskTierOptions {
  std::filesystem::path dir;  // an existing directory on the disk to use
  int64_t block_bytes = 0;    // bytes of one block (> 0)
  int32_t num_blocks = 0;     // blocks the file holds (> 0)
  int32_t queue_depth = 32;   // transfers in flight at most
  bool direct = true;         // O_DIRECT where the filesystem supports it (page cache bypassed)
  bool preallocate = true;    // reserve the whole file at open (a full disk fails there)
  IoBackend backend = IoBackend::kUring;
};

// One block to write from, or read into, `block_bytes` bytes at `data`.
struct BlockWrite {
  int32_t block = 0;
  const void* data = nullptr;
};
struct BlockRead {
  int32_t block = 0;
  void* data = nullptr;
};

// Each transfer's outcome, in the order given: error is empty when it succeeded.
struct BlockResult {
  int32_t block = 0;
  std::string error;
  bool ok() const { return error.empty(); }
};

struct DiskTierCounters {
  int64_t blocks_written = 0, blocks_read = 0;
  int64_t bytes_written = 0, bytes_read = 0;
  int64_t failed_writes = 0, failed_reads = 0, checksum_failures = 0;
};

class DiskBlockFile {
 public:
  // Creates the (unlinked) file in options.dir. Throws TierError naming the file, the reason and
  // the fix (a missing or unwritable directory, a disk without room for the file).
  explicit DiskBlockFile(const DiskTierOptions& options);
  ~DiskBlockFile();  // closes the file, which frees its space
  DiskBlockFile(const DiskBlockFile&) = delete;
  DiskBlockFile& operator=(const DiskBlockFile&) = delete;

  // Writes the blocks; each one that fails says why (e.g. "no space left on the device").
  // Throws TierError only for a block id out of range or a null pointer.
  std::vector<BlockResult> write(std::span<const BlockWrite> blocks);
  // Reads the blocks; a block never written, whose write failed, or whose bytes no longer
  // match its checksum fails with that reason and leaves its buffer unspecified.
  std::vector<BlockResult> read(std::span<const BlockRead> blocks);

  // The name the file was created under (unlinked since), for messages.
  const std::filesystem::path& path() const { return path_; }
  // The open file, for tools and tests that look at the bytes on disk.
  int fd() const { return fd_; }
  int64_t block_bytes() const { return block_bytes_; }
  int64_t slot_bytes() const { return slot_bytes_; }
  int32_t num_blocks() const { return num_blocks_; }
  // "io_uring, O_DIRECT, depth 32" or with the reason of each fallback, e.g.
  // "pread/pwrite (io_uring_queue_init: Operation not permitted), buffered (O_DIRECT: ...)".
  std::string describe() const;
  const DiskTierCounters& counters() const { return counters_; }

 private:
  struct Slot {
    uint32_t crc = 0;
    bool valid = false;
  };
  void check_block(int32_t block) const;
  std::string where(int32_t block) const;

  std::filesystem::path path_;
  int64_t block_bytes_;
  int64_t slot_bytes_;
  int32_t num_blocks_;
  int fd_ = -1;
  bool direct_ = false;
  std::string direct_reason_;  // why O_DIRECT is off when it was asked for
  std::unique_ptr<IoQueue> queue_;
  std::vector<Slot> slots_;
  struct Staging;
  std::unique_ptr<Staging> staging_;
  DiskTierCounters counters_;
};

}  // namespace bricks::tier
