// Reads and writes of one file with several requests in flight: io_uring where the kernel
// lets this process use it, else pread/pwrite one request at a time (a container's seccomp
// profile often blocks io_uring; the file's contents are the same either way).
//
// Thread safety: one thread drives a queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace bricks::tier {

// One request: `len` bytes between `buf` and the file at `offset`.
struct IoOp {
  bool write = false;
  void* buf = nullptr;
  size_t len = 0;
  int64_t offset = 0;
};

enum class IoBackend { kUring, kSync };

class IoQueue {
 public:
  // A queue over `fd` (owned by the caller, open for as long as the queue is) with `depth`
  // requests in flight at most (>= 1). kUring falls back to kSync when io_uring cannot be
  // set up; fallback_reason() says why.
  IoQueue(int fd, int depth, IoBackend wanted = IoBackend::kUring);
  ~IoQueue();
  IoQueue(const IoQueue&) = delete;
  IoQueue& operator=(const IoQueue&) = delete;

  // Runs `count` requests. prepare(i, slot) gives request i; it may use the caller's staging
  // buffer number `slot` (0 .. depth-1) until complete(i, slot, result) is called with the
  // bytes moved or -errno. Requests complete in any order; at most depth() are in flight.
  void run(size_t count, const std::function<IoOp(size_t op, int slot)>& prepare,
           const std::function<void(size_t op, int slot, int64_t result)>& complete);

  int depth() const { return depth_; }
  IoBackend backend() const { return backend_; }
  // Empty unless io_uring was wanted and could not be used: then the error, e.g.
  // "io_uring_queue_init: Operation not permitted".
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  void run_sync(size_t count, const std::function<IoOp(size_t, int)>& prepare,
                const std::function<void(size_t, int, int64_t)>& complete);

  struct Ring;
  int fd_;
  int depth_;
  IoBackend backend_;
  std::string fallback_reason_;
  std::unique_ptr<Ring> ring_;
};

}  // namespace bricks::tier
