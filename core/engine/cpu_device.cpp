#include "engine/cpu_device.h"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/weight_stream.h"

namespace bricks::engine {

CpuDevice::CpuDevice(const LlamaWeights& weights, const host::BrickInstance& attention,
                     std::string summary)
    : weights_(weights), attention_(attention), summary_(std::move(summary)) {}

void CpuDevice::bind(KvPool& pool) {
  pool_ = &pool;
  forward_ = std::make_unique<LlamaForward>(weights_, pool, attention_);
  forward_->set_weight_stream(stream_);
  if (overlap_copies_) {
    copier_ = std::make_unique<KvCopier>(pool);
    forward_->set_kv_copier(copier_.get());
  }
  const model::LlamaConfig& c = weights_.config;
  layout_ = KvGroupLayout::make(c.n_layers, prune_layers());
  if (pool.shape().num_layers != layout_.slabs) {
    throw std::logic_error("CpuDevice::bind: the KV pool stores " +
                           std::to_string(pool.shape().num_layers) +
                           " layers per block but the pruning points need " +
                           std::to_string(layout_.slabs) +
                           " (size it with KvGroupLayout::make(layers, prune_layers()))");
  }
  forward_->set_pruning(&layout_, nullptr);
  if (!prune_points_.empty()) {
    stage_ = std::make_unique<PruneStage>(c, layout_, prune_points_);
    stage_->set_planner([this](const std::vector<int32_t>& qo_indptr,
                               const bricks_page_table& table) { plan(qo_indptr.data(), table); });
    forward_->set_pruning(&layout_, stage_.get());
  }
  set_layer_ffns(std::move(layer_ffns_));
}

void CpuDevice::set_layer_ffns(std::vector<std::shared_ptr<LayerFfn>> per_layer) {
  layer_ffns_ = std::move(per_layer);
  if (forward_ == nullptr) return;
  for (size_t l = 0; l < layer_ffns_.size(); ++l) {
    forward_->set_layer_ffn(static_cast<int32_t>(l), layer_ffns_[l].get());
  }
}

void CpuDevice::set_pruning(std::vector<PrunePoint> points) {
  if (forward_ != nullptr) throw std::logic_error("CpuDevice::set_pruning after bind");
  prune_points_ = std::move(points);
}

std::vector<int32_t> CpuDevice::prune_layers() const {
  std::vector<int32_t> layers;
  for (const PrunePoint& p : prune_points_) layers.push_back(p.layer);
  return layers;
}

void CpuDevice::set_kv_groups(KvGroups* groups) {
  if (stage_ != nullptr) stage_->set_groups(groups);
  groups_attached_ = groups != nullptr;
}

void CpuDevice::set_weight_stream(WeightStream* stream) {
  if (forward_ != nullptr) throw std::logic_error("CpuDevice::set_weight_stream after bind");
  stream_ = stream;
}

void CpuDevice::set_overlap_copies(bool overlap) {
  if (forward_ != nullptr) throw std::logic_error("CpuDevice::set_overlap_copies after bind");
  overlap_copies_ = overlap;
}

size_t CpuDevice::copy_kv(const bricks_block_copy* copies, int32_t count) {
  if (pool_ == nullptr) throw std::logic_error("CpuDevice::copy_kv before bind");
  if (copier_ != nullptr) return copier_->start(copies, count);
  const auto t0 = std::chrono::steady_clock::now();
  const size_t moved = pool_->copy(copies, count);
  copy_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return moved;
}

void CpuDevice::end_step() {
  if (copier_ != nullptr) copier_->finish();
}

KvCopyTime CpuDevice::kv_copy_time() const {
  return copier_ != nullptr ? copier_->time() : KvCopyTime{copy_s_, 0.0};
}

std::vector<TierTraffic> CpuDevice::tier_traffic() const {
  if (stream_ == nullptr) return {};
  const WeightStreamCounters c = stream_->counters();
  return {TierTraffic{"weights from disk", stream_->plan().describe() + "; " + stream_->io(),
                      c.bytes_read, 0, c.read_s, c.waited_s}};
}

void CpuDevice::forward(const ForwardBatch& batch, const bricks_page_table& table,
                        std::vector<float>& logits) {
  if (forward_ == nullptr) throw std::logic_error("CpuDevice::forward before bind");
  plan(batch.qo_indptr.data(), table);
  if (stage_ != nullptr) {
    if (!groups_attached_) {
      throw std::logic_error("CpuDevice::forward with pruning points but no KV groups attached");
    }
    stage_->begin(batch, table);
  }
  forward_->run(batch, logits);
}

void CpuDevice::plan(const int32_t* qo_indptr, const bricks_page_table& table) {
  attention_.plan(llama_attention_batch(weights_.config, qo_indptr, table, pool_->shape().dtype));
}

}  // namespace bricks::engine
