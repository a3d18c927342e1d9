#include "engine/sim_device.h"

#include <algorithm>
#include <stdexcept>

namespace bricks::engine {

SimDevice::SimDevice(sim::CostModel model, SimDeviceOptions options)
    : model_(std::move(model)), options_(std::move(options)) {}

size_t SimDevice::copy_kv(const bricks_block_copy* copies, int32_t count) {
  if (pool_ == nullptr) throw std::logic_error("SimDevice::copy_kv before bind");
  const size_t moved = pool_->copy(copies, count);  // checks every run against the pool
  const int32_t block_size = pool_->shape().block_size;
  double seconds = 0;
  for (int32_t i = 0; i < count; ++i) {
    const bricks_block_copy& cp = copies[i];
    const bool on_device = cp.src_tier == BRICKS_TIER_DEVICE && cp.dst_tier == BRICKS_TIER_DEVICE;
    seconds += model_.kv_copy_seconds(
        static_cast<int64_t>(cp.num_blocks) * block_size,
        on_device ? sim::CopyPath::kDeviceDevice : sim::CopyPath::kHostDevice);
  }
  totals_.copy_runs += count;
  totals_.swap_s += seconds;
  if (options_.overlap_swaps) {
    pending_swap_s_ += seconds;
  } else {
    clock_.advance(seconds);
  }
  return moved;
}

void SimDevice::forward(const ForwardBatch& batch, const bricks_page_table& /*table*/,
                        std::vector<float>& logits) {
  work_.clear();
  const int32_t seqs = batch.num_seqs();
  for (int32_t b = 0; b < seqs; ++b) {
    const int32_t begin = batch.qo_indptr[b], end = batch.qo_indptr[b + 1];
    if (end <= begin) continue;
    // KV that arrived precomputed (a disaggregated cluster's decode instance) costs no
    // compute; after a recompute preemption it is gone and computed like any prompt.
    const int32_t ready = batch.requests[b]->kv_arrived(batch.positions[begin], end - begin);
    if (end - begin - ready <= 0) continue;
    work_.push_back({end - begin - ready, static_cast<int64_t>(batch.positions[end - 1]) + 1});
  }
  last_ = model_.step(work_, static_cast<int64_t>(batch.logit_rows.size()));
  double dt = last_.total_s;
  if (pending_swap_s_ > 0) {
    totals_.swap_hidden_s += std::min(pending_swap_s_, dt);
    dt = std::max(dt, pending_swap_s_);
    pending_swap_s_ = 0;
  }
  clock_.advance(dt);
  logits.clear();

  ++totals_.steps;
  totals_.compute_s += last_.total_s;
  totals_.parts.linear_s += last_.linear_s;
  totals_.parts.attention_s += last_.attention_s;
  totals_.parts.lm_head_s += last_.lm_head_s;
  totals_.parts.comm_s += last_.comm_s;
  totals_.parts.overhead_s += last_.overhead_s;
  totals_.parts.transfer_s += last_.transfer_s;
  totals_.parts.pipeline_overlap_s += last_.pipeline_overlap_s;
  totals_.parts.total_s += last_.total_s;
}

std::string SimDevice::describe() const {
  return options_.summary.empty() ? "sim, " + model_.describe() : options_.summary;
}

}  // namespace bricks::engine
