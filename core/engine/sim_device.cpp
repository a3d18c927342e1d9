#include "engine/sim_device.h"

#include <algorithm>
#include <stdexcept>

namespace bricks::engine {

SimDevice::SimDevice(sim::CostModel model, SimDeviceOptions options)
    : model_(std::move(model)), options_(std::move(options)) {}

void SimDevice::bind(KvPool& pool) {
  pool_ = &pool;
  if (options_.host_memory_kv_bytes >= 0) {
    host_memory_blocks_ =
        options_.host_memory_kv_bytes / static_cast<int64_t>(pool.shape().block_bytes());
  }
}

bool SimDevice::on_ssd(bricks_tier tier, int64_t block) const {
  if (tier == BRICKS_TIER_DISK) return true;
  return tier == BRICKS_TIER_HOST && host_memory_blocks_ >= 0 && block >= host_memory_blocks_;
}

double SimDevice::charge_run(bricks_tier src_tier, int32_t src, bricks_tier dst_tier, int32_t dst,
                             int32_t blocks) {
  const auto tokens = static_cast<int64_t>(blocks) * pool_->shape().block_size;
  const double bytes = static_cast<double>(blocks) * pool_->shape().block_bytes();
  const bool src_ssd = on_ssd(src_tier, src), dst_ssd = on_ssd(dst_tier, dst);
  if (src_ssd || dst_ssd) {
    const double s = model_.kv_copy_seconds(
        tokens, src_ssd ? sim::CopyPath::kSsdRead : sim::CopyPath::kSsdWrite);
    totals_.kv_ssd_bytes += bytes;
    totals_.kv_ssd_s += s;
    return s;
  }
  const bool on_device = src_tier == BRICKS_TIER_DEVICE && dst_tier == BRICKS_TIER_DEVICE;
  const double s = model_.kv_copy_seconds(
      tokens, on_device ? sim::CopyPath::kDeviceDevice : sim::CopyPath::kHostDevice);
  if (!on_device) {
    totals_.kv_host_bytes += bytes;
    totals_.kv_host_s += s;
  }
  return s;
}

size_t SimDevice::copy_kv(const bricks_block_copy* copies, int32_t count) {
  if (pool_ == nullptr) throw std::logic_error("SimDevice::copy_kv before bind");
  const size_t moved = pool_->copy(copies, count);  // checks every run against the pool
  double seconds = 0;
  for (int32_t i = 0; i < count; ++i) {
    const bricks_block_copy& cp = copies[i];
    // Split the run where either side crosses from host memory to the SSD: at most two
    // cuts, taken in order.
    int32_t cut_a = cp.num_blocks, cut_b = cp.num_blocks;
    for (const auto& [tier, first] :
         {std::pair{cp.src_tier, cp.src_block}, std::pair{cp.dst_tier, cp.dst_block}}) {
      if (tier != BRICKS_TIER_HOST || host_memory_blocks_ < 0) continue;
      const int64_t at = host_memory_blocks_ - first;
      if (at <= 0 || at >= cp.num_blocks) continue;
      const auto cut = static_cast<int32_t>(at);
      if (cut < cut_a) {
        cut_b = cut_a;
        cut_a = cut;
      } else if (cut < cut_b) {
        cut_b = cut;
      }
    }
    int32_t begin = 0;
    for (const int32_t end : {cut_a, cut_b, cp.num_blocks}) {
      if (end <= begin) continue;
      seconds += charge_run(cp.src_tier, cp.src_block + begin, cp.dst_tier, cp.dst_block + begin,
                            end - begin);
      begin = end;
    }
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
  if (last_.weight_transfer_s > 0) {
    const sim::WeightPlacement& p = model_.placement();
    totals_.parts.weight_transfer_s += last_.weight_transfer_s;
    totals_.parts.weight_hidden_s += last_.weight_hidden_s;
    totals_.weight_host_bytes += p.host_bytes();
    totals_.weight_ssd_bytes += p.ssd_bytes();
  }
  totals_.parts.total_s += last_.total_s;
}

std::string SimDevice::describe() const {
  return options_.summary.empty() ? "sim, " + model_.describe() : options_.summary;
}

}  // namespace bricks::engine
