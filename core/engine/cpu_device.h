// The cpu device: the Llama forward pass on this machine's cores, attention through the
// attention brick over the paged KV pool, timed by the wall clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/brick_calls.h"
#include "engine/device.h"
#include "engine/kv_copier.h"
#include "engine/kv_groups.h"
#include "engine/llama_forward.h"
#include "engine/llama_weights.h"
#include "engine/prune_stage.h"

namespace bricks::engine {

class CpuDevice final : public Device {
 public:
  // `weights` and the attention brick must outlive the device.
  CpuDevice(const LlamaWeights& weights, const host::BrickInstance& attention,
            std::string summary);

  Clock& clock() override { return clock_; }
  bool computes_logits() const override { return true; }
  bool stores_kv() const override { return true; }
  void bind(KvPool& pool) override;
  size_t copy_kv(const bricks_block_copy* copies, int32_t count) override;
  void end_step() override;
  KvCopyTime kv_copy_time() const override;
  std::vector<TierTraffic> tier_traffic() const override;
  void forward(const ForwardBatch& batch, const bricks_page_table& table,
               std::vector<float>& logits) override;
  std::string describe() const override { return summary_; }

  LlamaForward& forward_pass() { return *forward_; }

  // KV copies on a thread of their own beside the forward pass (engine/kv_copier.h)
  // instead of before it; call before bind().
  void set_overlap_copies(bool overlap);

  // Routed FFNs (MoE experts, neuron partitions) by layer: entry l, when set, computes
  // layer l's FFN. The device keeps them alive and hands them to the forward pass at
  // bind(), or at once when already bound.
  void set_layer_ffns(std::vector<std::shared_ptr<LayerFfn>> per_layer);

  // Pruning bricks and the layers they act after; call before bind(). The engine sizes
  // its pool by KvGroupLayout::make(layers, prune_layers()) and must then attach its
  // KvGroups with set_kv_groups before the first step.
  void set_pruning(std::vector<PrunePoint> points);
  std::vector<int32_t> prune_layers() const;
  void set_kv_groups(KvGroups* groups);

  // Layers read from disk ahead of use (engine/weight_stream.h); not owned, must outlive the
  // device. Call before bind().
  void set_weight_stream(WeightStream* stream);

 private:
  // Plans the attention brick for rows `qo_indptr` over `table`.
  void plan(const int32_t* qo_indptr, const bricks_page_table& table);

  const LlamaWeights& weights_;
  AttentionCalls attention_;
  std::string summary_;
  WallClock clock_;
  KvPool* pool_ = nullptr;
  bool overlap_copies_ = false;
  std::unique_ptr<KvCopier> copier_;  // with overlap_copies_, from bind()
  double copy_s_ = 0;                 // without: the copies' time, all of it in the step
  std::unique_ptr<LlamaForward> forward_;
  std::vector<std::shared_ptr<LayerFfn>> layer_ffns_;
  std::vector<PrunePoint> prune_points_;
  KvGroupLayout layout_;
  std::unique_ptr<PruneStage> stage_;
  bool groups_attached_ = false;
  WeightStream* stream_ = nullptr;
};

}  // namespace bricks::engine
