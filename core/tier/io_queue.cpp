#include "tier/io_queue.h"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tier/tier_error.h"

namespace bricks::tier {

struct IoQueue::Ring {
  io_uring ring{};
};

IoQueue::IoQueue(int fd, int depth, IoBackend wanted) : fd_(fd), depth_(depth), backend_(wanted) {
  if (depth < 1)
    throw TierError("I/O queue depth must be >= 1 (got " + std::to_string(depth) + ")");
  if (wanted != IoBackend::kUring) return;
  ring_ = std::make_unique<Ring>();
  const int rc = io_uring_queue_init(static_cast<unsigned>(depth), &ring_->ring, 0);
  if (rc < 0) {
    ring_.reset();
    backend_ = IoBackend::kSync;
    fallback_reason_ = std::string("io_uring_queue_init: ") + std::strerror(-rc);
  }
}

IoQueue::~IoQueue() {
  if (ring_) io_uring_queue_exit(&ring_->ring);
}

void IoQueue::run_sync(size_t count, const std::function<IoOp(size_t, int)>& prepare,
                       const std::function<void(size_t, int, int64_t)>& complete) {
  for (size_t i = 0; i < count; ++i) {
    const IoOp op = prepare(i, 0);
    size_t done = 0;
    int64_t result = 0;
    auto* bytes = static_cast<char*>(op.buf);
    while (done < op.len) {
      const ssize_t n =
          op.write
              ? ::pwrite(fd_, bytes + done, op.len - done, op.offset + static_cast<int64_t>(done))
              : ::pread(fd_, bytes + done, op.len - done, op.offset + static_cast<int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = -errno;
        break;
      }
      if (n == 0) break;  // end of file: a short read
      done += static_cast<size_t>(n);
    }
    complete(i, 0, result < 0 ? result : static_cast<int64_t>(done));
  }
}

void IoQueue::run(size_t count, const std::function<IoOp(size_t, int)>& prepare,
                  const std::function<void(size_t, int, int64_t)>& complete) {
  if (!ring_) {
    run_sync(count, prepare, complete);
    return;
  }
  std::vector<size_t> op_of_slot(static_cast<size_t>(depth_));
  std::vector<int> free_slots;
  for (int s = depth_ - 1; s >= 0; --s) free_slots.push_back(s);
  size_t next = 0, finished = 0;
  while (finished < count) {
    int queued = 0;
    while (next < count && !free_slots.empty()) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
      if (sqe == nullptr) break;
      const int slot = free_slots.back();
      free_slots.pop_back();
      const IoOp op = prepare(next, slot);
      if (op.write) {
        io_uring_prep_write(sqe, fd_, op.buf, static_cast<unsigned>(op.len),
                            static_cast<uint64_t>(op.offset));
      } else {
        io_uring_prep_read(sqe, fd_, op.buf, static_cast<unsigned>(op.len),
                           static_cast<uint64_t>(op.offset));
      }
      io_uring_sqe_set_data64(sqe, static_cast<uint64_t>(slot));
      op_of_slot[static_cast<size_t>(slot)] = next++;
      ++queued;
    }
    int rc = io_uring_submit_and_wait(&ring_->ring, 1);
    while (rc == -EINTR) rc = io_uring_submit_and_wait(&ring_->ring, 1);
    if (rc < 0) throw TierError(std::string("io_uring_submit_and_wait: ") + std::strerror(-rc));
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring_->ring, head, cqe) {
      const auto slot = static_cast<int>(io_uring_cqe_get_data64(cqe));
      complete(op_of_slot[static_cast<size_t>(slot)], slot, cqe->res);
      free_slots.push_back(slot);
      ++finished;
      ++seen;
    }
    io_uring_cq_advance(&ring_->ring, seen);
    (void)queued;
  }
}

}  // namespace bricks::tier
