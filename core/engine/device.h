// Where a step's math happens. The engine owns the request lifecycle and the bricks'
// calls; a device computes the step (or models its duration) and keeps the clock.
//
//  - cpu: real math on this machine (LlamaForward through the attention brick), wall clock.
//  - sim: a cost model of a datacenter GPU decides how long the step takes; the clock is
//    simulated and the tokens are synthetic, so paper-scale runs take seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "engine/clock.h"
#include "engine/forward_batch.h"
#include "engine/kv_pool.h"

namespace bricks::engine {

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
  // One line for reports: "cpu, 2 threads, f32 compute ...".
  virtual std::string describe() const = 0;
};

}  // namespace bricks::engine
