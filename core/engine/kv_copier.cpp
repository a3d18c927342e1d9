#include "engine/kv_copier.h"

#include <algorithm>
#include <chrono>

namespace bricks::engine {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

KvCopier::KvCopier(KvPool& pool) : pool_(pool), thread_([this] { run(); }) {}

KvCopier::~KvCopier() {
  finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

size_t KvCopier::start(const bricks_block_copy* copies, int32_t count) {
  const size_t moved = pool_.check_copies(copies, count);
  finish();
  if (count <= 0 || !pool_.stores_bytes()) return moved;
  // On the caller's thread, before start returns: the disk reads of the swap-ins must be in
  // before layer 0's copies, and the engine looks at the blocks they lost before the
  // forward pass reads any.
  const auto t0 = std::chrono::steady_clock::now();
  pool_.prepare(copies, count);
  {
    std::lock_guard<std::mutex> lock(mu_);
    copy_s_ += seconds_since(t0);
    waited_s_ += seconds_since(t0);  // nothing computes meanwhile: none of it is hidden
  }
  if (pool_.shape().num_layers <= 0) {
    pool_.complete();
    return moved;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_.assign(copies, copies + count);
    layers_done_ = 0;
    has_job_ = true;
  }
  work_cv_.notify_one();
  return moved;
}

void KvCopier::wait_layer(int32_t layer) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!has_job_ || layers_done_ > layer) return;
  const auto t0 = std::chrono::steady_clock::now();
  done_cv_.wait(lock, [&] { return !has_job_ || layers_done_ > layer; });
  waited_s_ += seconds_since(t0);
}

void KvCopier::finish() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!has_job_) return;
  const auto t0 = std::chrono::steady_clock::now();
  done_cv_.wait(lock, [&] { return !has_job_; });
  waited_s_ += seconds_since(t0);
}

KvCopyTime KvCopier::time() const {
  std::lock_guard<std::mutex> lock(mu_);
  return KvCopyTime{copy_s_, std::max(0.0, copy_s_ - waited_s_)};
}

// The copy thread. job_ is written only while no job runs (start() finishes the previous
// one first), so the thread reads it without the lock.
void KvCopier::run() {
  const int32_t layers = pool_.shape().num_layers;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || has_job_; });
    if (!has_job_) return;
    const auto count = static_cast<int32_t>(job_.size());
    lock.unlock();
    for (int32_t l = 0; l < layers; ++l) {
      const auto t0 = std::chrono::steady_clock::now();
      pool_.copy_layer(l, job_.data(), count);  // checked in start(): throws nothing
      const double dt = seconds_since(t0);
      {
        std::lock_guard<std::mutex> guard(mu_);
        copy_s_ += dt;
        layers_done_ = l + 1;
      }
      done_cv_.notify_all();
    }
    // The swap-outs host memory had no room for go to disk beside the compute.
    const auto t0 = std::chrono::steady_clock::now();
    pool_.complete();
    const double dt = seconds_since(t0);
    lock.lock();
    copy_s_ += dt;
    has_job_ = false;
    done_cv_.notify_all();
  }
}

}  // namespace bricks::engine
