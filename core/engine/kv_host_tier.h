// The bytes of the cpu device's host KV tier, optionally with the disk tier below it.
//
// The kv brick sees one host tier of num_blocks() ids: the blocks host memory holds plus
// those the disk file holds. Host memory is a cache over that larger tier: each id lives in
// at most one place, a memory slot or a disk block (an id never written lives nowhere).
// A host block is stored whole, block-major ([layer][K, V][block_size][heads][head_dim]), so
// that one disk block of KvShape::block_bytes() is one contiguous write or read.
//
// A step's copies run as a job: prepare() gives every host block they touch a place (a
// memory slot, or a staging buffer of the job) and does the disk I/O that must come first,
// batched: the reads of swap-ins whose blocks are on disk, then the writes of the least
// recently used resident blocks evicted to make room for swap-outs. The layer copies then
// address host blocks through place(); complete() writes the swap-outs that found no memory
// slot (host memory smaller than the job) from their staging buffers to disk.
//
// Failures stay with their blocks: a read that fails (checksum mismatch, I/O error) and a
// write that fails (a full disk) are reported per host block with the reason, and that
// block's bytes are never handed out as good (KvPool taints what they reach).
//
// Thread safety: one thread drives a tier (the engine's, or the KvCopier's during a job).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bricks/abi.h"
#include "engine/zero_pages.h"
#include "tier/disk_block_file.h"

namespace bricks::engine {

// What went through the disk tier, for reports.
struct KvDiskCounters {
  int64_t blocks_written = 0, blocks_read = 0;
  int64_t bytes_written = 0, bytes_read = 0;
  int64_t failed_writes = 0, failed_reads = 0;  // checksum mismatches among failed_reads
  int64_t checksum_failures = 0;
  int64_t evictions = 0;  // resident blocks written out to make room
  double seconds = 0;     // spent in disk transfers
};

// A host block whose bytes were lost, and why.
struct KvBlockFailure {
  int32_t host_block = 0;
  std::string reason;
};

class KvHostTier {
 public:
  // `memory_blocks` host blocks in memory; with `disk`, its num_blocks more on the disk
  // (disk->block_bytes is set here). Throws tier::TierError when the file cannot be made.
  KvHostTier(size_t block_bytes, size_t layer_half_bytes, int32_t memory_blocks,
             const std::optional<tier::DiskTierOptions>& disk);
  KvHostTier(const KvHostTier&) = delete;
  KvHostTier& operator=(const KvHostTier&) = delete;

  int32_t num_blocks() const { return memory_blocks_ + disk_blocks_; }
  int32_t memory_blocks() const { return memory_blocks_; }
  int32_t disk_blocks() const { return disk_blocks_; }
  bool has_disk() const { return file_ != nullptr; }
  const tier::DiskBlockFile* disk_file() const { return file_.get(); }

  // Places every host block the copies touch and runs the disk reads and evictions they
  // need. Returns the host blocks whose bytes are lost (a failed read, a failed eviction).
  std::vector<KvBlockFailure> prepare(const bricks_block_copy* copies, int32_t count);
  // The K (kv = 0) or V (kv = 1) rows of `layer` of host block `block`, placed by prepare().
  std::byte* place(int32_t block, int32_t layer, int kv);
  // Ends the job: writes the staged swap-outs to disk. Returns the blocks whose write failed.
  std::vector<KvBlockFailure> complete();

  // Host blocks resident in memory, most recently used first.
  std::vector<int32_t> resident() const;
  // Whether the block lives on the disk now.
  bool on_disk(int32_t block) const;
  // The disk block holding host block `block`, or -1.
  int32_t disk_block_of(int32_t block) const;
  const KvDiskCounters& counters() const { return counters_; }

 private:
  struct Where {
    int32_t slot = -1;  // memory slot, or -1
    int32_t disk = -1;  // disk block, or -1
    std::list<int32_t>::iterator lru;
  };
  std::byte* slot_bytes(int32_t slot) { return memory_.data() + block_bytes_ * slot; }
  std::byte* stage(int32_t block);  // a staging buffer of the job for `block`
  void touch(int32_t block);
  void make_resident(int32_t block, int32_t slot);
  int32_t take_disk_block();
  void give_back_disk_block(int32_t block);
  // The disk transfers of `ids` (host blocks) from/into `bufs`, counted; failures returned.
  std::vector<KvBlockFailure> disk_write(const std::vector<std::pair<int32_t, std::byte*>>& jobs);
  std::vector<KvBlockFailure> disk_read(const std::vector<std::pair<int32_t, std::byte*>>& jobs);

  size_t block_bytes_;
  size_t layer_half_bytes_;
  int32_t memory_blocks_;
  int32_t disk_blocks_ = 0;
  ZeroPages memory_;
  std::unique_ptr<tier::DiskBlockFile> file_;
  std::vector<Where> where_;         // by host block (disk tier only)
  std::list<int32_t> lru_;           // resident host blocks, most recent first
  std::vector<int32_t> free_slots_;  // memory slots holding no block
  std::vector<int32_t> free_disk_;   // disk blocks holding no host block
  // The job: host block -> where its bytes are (memory or staging); staged swap-outs to
  // write at complete(); staging buffers.
  std::unordered_map<int32_t, std::byte*> placed_;
  std::vector<int32_t> write_behind_;
  std::vector<std::unique_ptr<std::byte[]>> staging_;
  KvDiskCounters counters_;
};

}  // namespace bricks::engine
