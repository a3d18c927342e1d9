// The cpu device: the Llama forward pass on this machine's cores, attention through the
// attention brick over the paged KV pool, timed by the wall clock.
#pragma once

#include <memory>
#include <string>

#include "engine/brick_calls.h"
#include "engine/device.h"
#include "engine/llama_forward.h"
#include "engine/llama_weights.h"

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
  void forward(const ForwardBatch& batch, const bricks_page_table& table,
               std::vector<float>& logits) override;
  std::string describe() const override { return summary_; }

  LlamaForward& forward_pass() { return *forward_; }

 private:
  const LlamaWeights& weights_;
  AttentionCalls attention_;
  std::string summary_;
  WallClock clock_;
  KvPool* pool_ = nullptr;
  std::unique_ptr<LlamaForward> forward_;
};

}  // namespace bricks::engine
