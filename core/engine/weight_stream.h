// Weight streaming: the layers a WeightPlan marks streamed are read from the model file
// every step, ahead of use, into a ring of buffers, by a thread of their own while the
// forward pass computes earlier layers. Reads go around the page cache (O_DIRECT where the
// filesystem has it, io_uring with several requests in flight: core/tier/io_queue.h), so
// what stays in memory is the plan's resident bytes and the ring, and read-ahead is this
// class's, not the kernel's; the model's mapping is never touched for a streamed matrix.
//
// The forward pass takes the layers in order, step after step: acquire(l) blocks until
// layer l is in a buffer and returns its matrices; release(l) gives the buffer back for the
// next read. A pass that stops early (every row pruned) may skip layers: the next
// acquire() passes over them. A read that fails (an I/O error, a file shorter than its
// tensors) makes acquire() throw DeviceStepError naming the layer, the file and the reason;
// the step's requests fail and the next step reads the layer again.
//
// Thread safety: one thread (the engine's) calls acquire/release; counters() from any.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bricks/model/model.h"
#include "engine/llama_weights.h"
#include "engine/weight_plan.h"

namespace bricks::engine {

struct WeightStreamCounters {
  int64_t layers_read = 0;
  int64_t bytes_read = 0;
  double read_s = 0;    // the reading thread's time in reads
  double waited_s = 0;  // the forward pass's time waiting for a layer: reads not hidden
  int64_t failed_reads = 0;
};

class WeightStream {
 public:
  // Empty when every streamed matrix of `m` can be read from its file; else why not (a
  // mixture-of-experts model, a tensor changed at load).
  static std::string cannot_stream(const model::Model& m);
  // What the planner needs: per layer, the bytes of a buffer holding its matrices (their
  // file extents widened to 4 KiB for direct I/O), and the bytes that always stay.
  static std::vector<int64_t> layer_buffer_bytes(const model::Model& m);
  static int64_t fixed_bytes(const model::Model& m);
  // The sequential read rate of the model's files (direct I/O, 1 MiB reads, 8 in flight,
  // up to 64 MiB from the layers' region), in bytes per second. Throws DeviceStepError
  // when the file cannot be read.
  static double measure_disk_rate(const model::Model& m);

  // The rate the compute reads weights at in a decode step: the output head's GEMV on one
  // row, best of three, in bytes per second.
  static double measure_compute_rate(const LlamaWeights& w);

  // Starts reading the first streamed layers at once; `m` must outlive the stream. Throws
  // DeviceStepError naming the file when it cannot be opened.
  WeightStream(const model::Model& m, const WeightPlan& plan, cpu::Compute compute);
  ~WeightStream();  // stops the reading thread after its current read
  WeightStream(const WeightStream&) = delete;
  WeightStream& operator=(const WeightStream&) = delete;

  bool streams(int32_t layer) const { return plan_.streamed[static_cast<size_t>(layer)]; }
  const LayerWeights& acquire(int32_t layer);
  void release(int32_t layer);

  const WeightPlan& plan() const { return plan_; }
  WeightStreamCounters counters() const;
  // "io_uring, O_DIRECT, 8 reads in flight" or with the reason of each fallback.
  const std::string& io() const { return io_; }

 private:
  struct Extent;  // one contiguous read: file, offset, length, place in the buffer
  struct Layout;  // one streamed layer: its extents and where each matrix lands
  struct Slot;    // one buffer of the ring, with the matrices of the layer it holds
  struct File;    // an open model file and its I/O queue

  static std::unique_ptr<Layout> make_layout(const model::Model& m, int32_t layer);
  void read_loop();
  std::string read_into(const Layout& layout, Slot& slot);
  // Waits until the ring position `n` is read; returns its slot.
  Slot& wait_read(int64_t n, std::unique_lock<std::mutex>& lock);

  WeightPlan plan_;
  cpu::Compute compute_;
  std::string io_;
  std::vector<int32_t> order_;                    // the streamed layers, in the order they are read
  std::vector<std::unique_ptr<Layout>> layouts_;  // [position in order_]
  std::vector<std::unique_ptr<File>> files_;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex mu_;
  std::condition_variable read_cv_;  // the reading thread waits here for a free buffer
  std::condition_variable done_cv_;  // acquire waits here for a read
  int64_t next_read_ = 0;   // ring positions: read n uses slot n % slots, layer order_[n % k]
  int64_t reads_done_ = 0;  // positions below this one are read (or failed)
  int64_t next_use_ = 0;    // the position acquire hands out next
  bool held_ = false;       // acquire handed out next_use_ - 1 and release has not come
  bool stop_ = false;
  WeightStreamCounters counters_;
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace bricks::engine
