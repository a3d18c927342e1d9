// The sim device: no math. Each step's duration comes from a cost model of a datacenter
// GPU (core/sim) and moves a simulated clock; the tokens are synthetic and the KV pool only
// counts, while the scheduler and kv bricks run for real. A paper-scale workload replays
// in seconds on a laptop.
//
// KV copies (swaps, host-tier reuse) are charged per contiguous run: 2 * layers transfers,
// each a fixed latency plus its bytes over PCIe (see CostModel::kv_copy_seconds). Without
// overlap the copies take their time before the step's compute; with overlap_swaps they run
// beside it and the step takes the longer of the two.
//
// KV tier on the SSD: the host tier's block ids from host_memory_kv_bytes on live on the
// SSD (the kv bricks hand out the lowest free host ids first, so those blocks fill when the
// host-memory part is full), as do blocks of a disk tier. Copies of those blocks are charged
// at the SSD's rates (CopyPath::kSsdRead, kSsdWrite); a run that straddles the boundary is
// charged in two parts. Weights streamed from host memory or the SSD are charged by the
// cost model inside each step's time; the totals count their bytes and seconds per tier.
//
// Thread safety: one thread drives it, as the engine does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/device.h"
#include "sim/cost_model.h"

namespace bricks::engine {

struct SimDeviceOptions {
  bool overlap_swaps = false;
  std::string summary;  // describe()'s line; the cost model's describe() when empty
  // Bytes of the host KV tier in host memory; its blocks past them are on the SSD.
  // -1: the whole host tier is in host memory.
  int64_t host_memory_kv_bytes = -1;
};

// What the device has charged so far.
struct SimTotals {
  int64_t steps = 0;
  double compute_s = 0;      // sum of the steps' modelled times
  double swap_s = 0;         // sum of the copies' modelled times
  double swap_hidden_s = 0;  // of which overlapped with compute (overlap_swaps)
  int64_t copy_runs = 0;     // contiguous runs copied
  sim::StepCost parts;       // sum of the steps' parts
  // Traffic per tier: weights streamed to the GPU, and KV copies to or from each tier.
  double weight_host_bytes = 0, weight_ssd_bytes = 0;
  double kv_host_bytes = 0, kv_ssd_bytes = 0;  // KV copied to or from host memory, the SSD
  double kv_host_s = 0, kv_ssd_s = 0;          // their modelled times
};

class SimDevice final : public Device {
 public:
  SimDevice(sim::CostModel model, SimDeviceOptions options);

  Clock& clock() override { return clock_; }
  bool computes_logits() const override { return false; }
  bool stores_kv() const override { return false; }
  void bind(KvPool& pool) override;
  // Checks the copies against the pool and charges their time. Returns the bytes moved.
  size_t copy_kv(const bricks_block_copy* copies, int32_t count) override;
  KvCopyTime kv_copy_time() const override { return {totals_.swap_s, totals_.swap_hidden_s}; }
  // Advances the clock by the step's modelled time; `logits` is left empty.
  void forward(const ForwardBatch& batch, const bricks_page_table& table,
               std::vector<float>& logits) override;
  std::string describe() const override;

  const sim::CostModel& cost_model() const { return model_; }
  // The cost of the last forward() (zero before the first).
  const sim::StepCost& last_step() const { return last_; }
  const SimTotals& totals() const { return totals_; }

 private:
  sim::CostModel model_;
  SimDeviceOptions options_;
  SimClock clock_;
  // Charges one run of `blocks` blocks from src to dst (ids in their tiers).
  double charge_run(bricks_tier src_tier, int32_t src, bricks_tier dst_tier, int32_t dst,
                    int32_t blocks);
  // The host tier's block `block` lives on the SSD.
  bool on_ssd(bricks_tier tier, int64_t block) const;

  KvPool* pool_ = nullptr;
  int64_t host_memory_blocks_ = -1;  // host-tier ids below it are in host memory; -1: all
  double pending_swap_s_ = 0;        // overlap_swaps: copy time waiting for the next step
  sim::StepCost last_;
  SimTotals totals_;
  std::vector<sim::SeqWork> work_;  // scratch
};

}  // namespace bricks::engine
