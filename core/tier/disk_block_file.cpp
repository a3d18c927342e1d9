#include "tier/disk_block_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tier/crc32c.h"
#include "tier/tier_error.h"

namespace bricks::tier {

namespace {

constexpr int64_t kAlign = 4096;  // O_DIRECT: offsets, sizes and buffers on this boundary

std::string errno_text(int err) { return std::strerror(err); }

std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return buf;
}

}  // namespace

// queue_depth aligned buffers of slot_bytes each.
struct DiskBlockFile::Staging {
  std::vector<char*> buffers;
  ~Staging() {
    for (char* b : buffers) std::free(b);
  }
};

DiskBlockFile::DiskBlockFile(const DiskTierOptions& o)
    : block_bytes_(o.block_bytes), num_blocks_(o.num_blocks) {
  if (o.block_bytes <= 0 || o.num_blocks <= 0 || o.queue_depth < 1) {
    throw TierError("disk tier: block_bytes, num_blocks and queue_depth must be > 0 (got " +
                    std::to_string(o.block_bytes) + ", " + std::to_string(o.num_blocks) + ", " +
                    std::to_string(o.queue_depth) + ")");
  }
  slot_bytes_ = (o.block_bytes + kAlign - 1) / kAlign * kAlign;
  std::error_code ec;
  if (!std::filesystem::is_directory(o.dir, ec)) {
    throw TierError("disk tier: " + o.dir.string() +
                    " is not a directory; create it or name another for the disk tier");
  }
  std::string name = (o.dir / "bricks-kv-XXXXXX").string();
  const int flags = O_CLOEXEC | (o.direct ? O_DIRECT : 0);
  fd_ = ::mkostemp(name.data(), flags);
  if (fd_ < 0 && o.direct && errno == EINVAL) {
    // The filesystem (tmpfs, some network ones) has no direct I/O: use the page cache.
    direct_reason_ = "O_DIRECT: " + errno_text(EINVAL) + " on this filesystem";
    name = (o.dir / "bricks-kv-XXXXXX").string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  } else if (o.direct) {
    direct_ = fd_ >= 0;
  }
  if (fd_ < 0) {
    throw TierError("disk tier: cannot create a file in " + o.dir.string() + ": " +
                    errno_text(errno) + "; give a writable directory");
  }
  path_ = name;
  // Unlinked at once: the blocks stay reachable through fd_, and a process that dies leaves
  // no file behind.
  ::unlink(path_.c_str());
  const int64_t file_bytes = slot_bytes_ * num_blocks_;
  if (o.preallocate) {
    const int rc = ::posix_fallocate(fd_, 0, file_bytes);
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
      ::close(fd_);
      throw TierError("disk tier: cannot reserve " + gib(file_bytes) + " for " +
                      std::to_string(num_blocks_) + " blocks in " + path_.string() + ": " +
                      errno_text(rc) + "; free space there or lower the disk tier's blocks");
    }
  }
  queue_ = std::make_unique<IoQueue>(fd_, o.queue_depth, o.backend);
  staging_ = std::make_unique<Staging>();
  for (int i = 0; i < o.queue_depth; ++i) {
    void* p = std::aligned_alloc(kAlign, static_cast<size_t>(slot_bytes_));
    if (p == nullptr) throw TierError("disk tier: out of memory for staging buffers");
    std::memset(p, 0, static_cast<size_t>(slot_bytes_));
    staging_->buffers.push_back(static_cast<char*>(p));
  }
  slots_.resize(static_cast<size_t>(num_blocks_));
}

DiskBlockFile::~DiskBlockFile() {
  queue_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void DiskBlockFile::check_block(int32_t block) const {
  if (block < 0 || block >= num_blocks_) {
    throw TierError("disk tier: block " + std::to_string(block) + " is out of range [0, " +
                    std::to_string(num_blocks_) + ") of " + path_.string());
  }
}

std::string DiskBlockFile::where(int32_t block) const {
  return "block " + std::to_string(block) + " of " + path_.string();
}

std::vector<BlockResult> DiskBlockFile::write(std::span<const BlockWrite> blocks) {
  for (const BlockWrite& w : blocks) {
    check_block(w.block);
    if (w.data == nullptr) throw TierError("disk tier: null data for " + where(w.block));
  }
  std::vector<BlockResult> results(blocks.size());
  std::vector<uint32_t> crcs(blocks.size());
  const auto len = static_cast<size_t>(slot_bytes_);
  queue_->run(
      blocks.size(),
      [&](size_t i, int slot) {
        const BlockWrite& w = blocks[i];
        char* buf = staging_->buffers[static_cast<size_t>(slot)];
        std::memcpy(buf, w.data, static_cast<size_t>(block_bytes_));
        crcs[i] = crc32c(buf, static_cast<size_t>(block_bytes_));
        // Until the write completes, the block on disk is neither old nor new.
        slots_[static_cast<size_t>(w.block)].valid = false;
        return IoOp{true, buf, len, w.block * slot_bytes_};
      },
      [&](size_t i, int, int64_t result) {
        const int32_t block = blocks[i].block;
        results[i].block = block;
        if (result == static_cast<int64_t>(len)) {
          slots_[static_cast<size_t>(block)] = {crcs[i], true};
          ++counters_.blocks_written;
          counters_.bytes_written += static_cast<int64_t>(len);
          return;
        }
        ++counters_.failed_writes;
        results[i].error =
            result < 0 ? "writing " + where(block) + ": " + errno_text(static_cast<int>(-result))
                       : "writing " + where(block) + ": only " + std::to_string(result) + " of " +
                             std::to_string(len) + " bytes written";
      });
  return results;
}

std::vector<BlockResult> DiskBlockFile::read(std::span<const BlockRead> blocks) {
  for (const BlockRead& r : blocks) {
    check_block(r.block);
    if (r.data == nullptr) throw TierError("disk tier: null buffer for " + where(r.block));
  }
  std::vector<BlockResult> results(blocks.size());
  std::vector<size_t> to_read;
  for (size_t i = 0; i < blocks.size(); ++i) {
    results[i].block = blocks[i].block;
    if (!slots_[static_cast<size_t>(blocks[i].block)].valid) {
      ++counters_.failed_reads;
      results[i].error = "reading " + where(blocks[i].block) +
                         ": it holds no complete write (never written, or its write failed)";
    } else {
      to_read.push_back(i);
    }
  }
  const auto len = static_cast<size_t>(slot_bytes_);
  queue_->run(
      to_read.size(),
      [&](size_t k, int slot) {
        const BlockRead& r = blocks[to_read[k]];
        return IoOp{false, staging_->buffers[static_cast<size_t>(slot)], len,
                    r.block * slot_bytes_};
      },
      [&](size_t k, int slot, int64_t result) {
        const size_t i = to_read[k];
        const int32_t block = blocks[i].block;
        const char* buf = staging_->buffers[static_cast<size_t>(slot)];
        if (result != static_cast<int64_t>(len)) {
          ++counters_.failed_reads;
          results[i].error =
              result < 0 ? "reading " + where(block) + ": " + errno_text(static_cast<int>(-result))
                         : "reading " + where(block) + ": only " + std::to_string(result) + " of " +
                               std::to_string(len) + " bytes read";
          return;
        }
        if (crc32c(buf, static_cast<size_t>(block_bytes_)) !=
            slots_[static_cast<size_t>(block)].crc) {
          ++counters_.failed_reads;
          ++counters_.checksum_failures;
          results[i].error = "reading " + where(block) +
                             ": checksum mismatch (a torn or lost write, or the file was "
                             "changed underneath)";
          return;
        }
        std::memcpy(blocks[i].data, buf, static_cast<size_t>(block_bytes_));
        ++counters_.blocks_read;
        counters_.bytes_read += static_cast<int64_t>(len);
      });
  return results;
}

std::string DiskBlockFile::describe() const {
  std::string s = queue_->backend() == IoBackend::kUring ? "io_uring" : "pread/pwrite";
  if (!queue_->fallback_reason().empty()) s += " (" + queue_->fallback_reason() + ")";
  s += direct_ ? ", O_DIRECT" : ", buffered";
  if (!direct_reason_.empty()) s += " (" + direct_reason_ + ")";
  s += ", depth " + std::to_string(queue_->depth());
  return s;
}

}  // namespace bricks::tier
