// One forward pass of a Llama-family model over a mixed batch of prefill chunks and
// decode tokens (continuous batching): every token of the step goes through each layer
// together; attention goes through the attention brick over the paged KV pool.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/brick_calls.h"
#include "engine/forward_batch.h"
#include "engine/kv_copier.h"
#include "engine/kv_groups.h"
#include "engine/kv_pool.h"
#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"

namespace bricks::engine {

class PruneStage;
class WeightStream;

// The linear projections of a layer, named as the GGUF tensors are (blk.N.attn_q ...).
enum class Proj { kQ, kK, kV, kO, kGate, kUp, kDown };
const char* proj_name(Proj p);

// Called after each base projection with its input and output; adds what it must to y
// (per-request adapters). `batch` tells which request each row belongs to.
using ProjectionHook = std::function<void(const ForwardBatch& batch, int32_t layer, Proj p,
                                          const float* x, int64_t rows, float* y)>;

class LlamaForward {
 public:
  LlamaForward(const LlamaWeights& weights, KvPool& pool, const AttentionCalls& attention);

  // Runs the batch; the attention brick must already be planned for it. Writes
  // logits[logit_rows.size()][vocab].
  void run(const ForwardBatch& batch, std::vector<float>& logits);

  void set_projection_hook(ProjectionHook hook) { hook_ = std::move(hook); }

  // Pruning points and KV groups (engine/kv_groups.h, engine/prune_stage.h): layer l keeps
  // its K/V in slab layout->slab_of_layer[l] of the pool, and `stage` (may be null when the
  // layout has no pruning point) compacts the batch after pruning layers and opens the
  // later groups. Both must outlive this object. Without a layout, slab = layer.
  void set_pruning(const KvGroupLayout* layout, PruneStage* stage);

  // Layer `layer` computes its FFN through `ffn` (not owned; it must outlive this object,
  // or be unset first) instead of its dense weights; nullptr restores the dense FFN. MoE
  // layers have no dense FFN: running one without a LayerFfn throws std::logic_error.
  // The projection hook does not see the projections inside a LayerFfn.
  void set_layer_ffn(int32_t layer, LayerFfn* ffn);

  // KV copies that may still be running when run() starts (engine/kv_copier.h): each layer
  // waits for its slab's copies before it writes or reads the pool. Not owned; null: none.
  void set_kv_copier(KvCopier* copier) { copier_ = copier; }

  // Layers whose matrices are read from disk ahead of use (engine/weight_stream.h): the
  // pass takes them from the stream's buffers, in order. Not owned; null: all resident.
  void set_weight_stream(WeightStream* stream) { stream_ = stream; }

 private:
  // y = W_p x for `rows` rows of layer `layer`, then the projection hook.
  void project(int32_t layer, Proj p, const float* x, int64_t rows, float* y);
  // project() for N projections of the same input (q, k, v; gate, up): one call of
  // cpu::Linear::forward_same_input, then the hook for each in order.
  template <size_t N>
  void project_same(int32_t layer, const Proj (&ps)[N], const float* x, int64_t rows,
                    float* const (&ys)[N]);
  const cpu::Linear& linear(Proj p) const;

  // Makes `batch` the one the layers compute (batch_, rope_table_); returns its tokens.
  int64_t use_batch(const ForwardBatch& batch);
  // x_ = the input embeddings: token rows, or image rows at image positions.
  void embed_inputs(const ForwardBatch& batch, int64_t tokens);
  // Layer `layer` with its matrices from L (resident, or a stream buffer).
  void run_layer(int32_t layer, const LayerWeights& L, int64_t tokens);
  void attention_block(int32_t layer, const ForwardBatch& batch, int64_t tokens);
  void ffn_block(int32_t layer, const LayerWeights& L, int64_t tokens);

  const LlamaWeights& w_;
  KvPool& pool_;
  const AttentionCalls& attention_;
  ProjectionHook hook_;
  std::vector<LayerFfn*> layer_ffn_;  // [n_layers] or empty; null entries: dense FFN
  const ForwardBatch* batch_ = nullptr;  // the batch run() is computing
  const KvGroupLayout* layout_ = nullptr;
  PruneStage* stage_ = nullptr;
  KvCopier* copier_ = nullptr;
  WeightStream* stream_ = nullptr;
  const LayerWeights* layer_ = nullptr;  // the matrices of the layer running
  std::vector<int32_t> ids_;
  std::vector<float> pruned_logits_;
  // cpu::rope_angles of batch_'s positions: one table for every layer's q and k.
  std::vector<float> rope_table_;
  // Scratch reused across steps.
  std::vector<float> x_, h_, q_, k_, v_, attn_, o_, gate_, up_, rows_;
};

}  // namespace bricks::engine
