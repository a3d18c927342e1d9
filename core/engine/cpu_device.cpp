#include "engine/cpu_device.h"

#include <cmath>
#include <stdexcept>

namespace bricks::engine {

CpuDevice::CpuDevice(const LlamaWeights& weights, const host::BrickInstance& attention,
                     std::string summary)
    : weights_(weights), attention_(attention), summary_(std::move(summary)) {}

void CpuDevice::bind(KvPool& pool) {
  pool_ = &pool;
  forward_ = std::make_unique<LlamaForward>(weights_, pool, attention_);
}

size_t CpuDevice::copy_kv(const bricks_block_copy* copies, int32_t count) {
  return pool_->copy(copies, count);
}

void CpuDevice::forward(const ForwardBatch& batch, const bricks_page_table& table,
                        std::vector<float>& logits) {
  if (forward_ == nullptr) throw std::logic_error("CpuDevice::forward before bind");
  const model::LlamaConfig& c = weights_.config;
  bricks_attention_batch ab{};
  ab.struct_size = sizeof(ab);
  ab.qo_indptr = batch.qo_indptr.data();
  ab.kv = table;
  ab.num_qo_heads = c.n_heads;
  ab.num_kv_heads = c.n_kv_heads;
  ab.head_dim = c.head_dim;
  ab.kv_dtype = pool_->shape().dtype;
  ab.sm_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  ab.causal = 1;
  attention_.plan(ab);
  forward_->run(batch, logits);
}

}  // namespace bricks::engine
