// KV block copies (swaps between the device and host tiers, kept conversations brought
// back) that run on a thread of their own while the forward pass computes, as FastSwitch
// overlaps its swaps with compute. The copier moves the step's copies one layer at a time,
// in layer order; the forward pass waits for a layer only when it reaches it, so the copy
// of layer l+1 runs beside the compute of layer l. Each layer of the pool is touched by the
// copies and by the forward pass only after the copies of that layer are complete, so a
// block freed by a swap-out and reused in the same step is written after it was read.
// With a disk tier below the host tier (engine/kv_host_tier.h), start() runs the step's disk
// reads and evictions before it returns (layer 0 needs them, and the engine must know the
// blocks they lost before computing); the swap-outs that found no room in host memory are
// written to disk on the copy thread after the last layer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "bricks/abi.h"
#include "engine/kv_pool.h"

namespace bricks::engine {

class KvCopier {
 public:
  // `pool` must outlive the copier.
  explicit KvCopier(KvPool& pool);
  ~KvCopier();  // waits for the running copies
  KvCopier(const KvCopier&) = delete;
  KvCopier& operator=(const KvCopier&) = delete;

  // Checks `copies` against the pool (throws as KvPool::copy does, before anything moves),
  // waits for the previous copies, runs KvPool::prepare, then starts the layer copies and
  // returns the bytes they move.
  size_t start(const bricks_block_copy* copies, int32_t count);
  // Blocks until layer `layer` of every started copy is in place.
  void wait_layer(int32_t layer);
  // Blocks until every started copy is done.
  void finish();

  // total_s: the copy thread's time; hidden_s: that time less what wait_layer and finish
  // spent waiting for it.
  KvCopyTime time() const;

 private:
  void run();

  KvPool& pool_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the copy thread waits here for a job
  std::condition_variable done_cv_;  // callers wait here for layers
  std::vector<bricks_block_copy> job_;
  bool has_job_ = false;
  int32_t layers_done_ = 0;  // of the current job
  bool stop_ = false;
  double copy_s_ = 0, waited_s_ = 0;
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace bricks::engine
