// Where a step's math happens. The engine owns the request lifecycle and the bricks'
// calls; a device computes the step (or models its duration) and keeps the clock.
//
//  - cpu: real math on this machine (LlamaForward through the attention brick), wall clock.
//  - sim: a cost model of a datacenter GPU decides how long the step takes; the clock is
//    simulated and the tokens are synthetic, so paper-scale runs take seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "engine/clock.h"
#include "engine/forward_batch.h"
#include "engine/kv_pool.h"

namespace bricks::engine {

// Thrown by Device::forward when a step could not compute for a reason that is not its
// batch's (a read of weights from disk failed): the engine fails the step's requests with
// what() and goes on with the others.
class DeviceStepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A memory tier below the device's own memory (weights or KV on disk), for the report.
struct TierTraffic {
  std::string name;  // "weights from disk"
  std::string plan;  // where things live and how they move, one line
  int64_t bytes_read = 0, bytes_written = 0;
  double busy_s = 0;     // the time its transfers took
  double exposed_s = 0;  // the part of it the compute waited for (not hidden)
};

class Device {
 public:
  virtual ~Device() = default;

  virtual Clock& clock() = 0;
  // True when forward() writes real logits; false when the engine draws synthetic tokens.
  virtual bool computes_logits() const = 0;
  // True when the KV pool must hold the cache's bytes; false for a pool that only counts.
  virtual bool stores_kv() const = 0;
  // Called once, after the engine made its KV pool and before any step.
  virtual void bind(KvPool& pool) = 0;
  // Runs the block copies the kv brick queued, before the step's compute (swaps, reuse
  // from the host tier). Returns the bytes moved.
  virtual size_t copy_kv(const bricks_block_copy* copies, int32_t count) = 0;
  // Called at the end of every step, and before the engine lets go of its KV pool: the
  // copies copy_kv started are complete when it returns (a device may run them beside the
  // forward pass).
  virtual void end_step() {}
  // The time the KV copies took so far, and the part of it hidden behind compute.
  virtual KvCopyTime kv_copy_time() const { return {}; }
  // Computes the step. `table` is the kv brick's page table (group 0) for the batch; when
  // computes_logits(), writes logits[batch.logit_rows.size()][vocab].
  virtual void forward(const ForwardBatch& batch, const bricks_page_table& table,
                       std::vector<float>& logits) = 0;
  // The tiers below device memory this device moves data through, with their traffic.
  virtual std::vector<TierTraffic> tier_traffic() const { return {}; }
  // One line for reports: "cpu, 2 threads, f32 compute ...".
  virtual std::string describe() const = 0;
};

}  // namespace bricks::engine
