// One forward pass of a Llama-family model over a mixed batch of prefill chunks and
// decode tokens (continuous batching): every token of the step goes through each layer
// together; attention goes through the attention brick over the paged KV pool.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/brick_calls.h"
#include "engine/kv_pool.h"
#include "engine/llama_weights.h"

namespace bricks::engine {

// The step's tokens, flattened in batch order.
struct ForwardBatch {
  std::vector<int32_t> token_ids;   // [T]
  std::vector<int32_t> positions;   // [T] absolute position in its sequence
  std::vector<int32_t> slots;       // [T] KV slot (block * block_size + offset)
  std::vector<int32_t> qo_indptr;   // [B+1] tokens of sequence b: qo_indptr[b]..qo_indptr[b+1]
  std::vector<int32_t> logit_rows;  // rows of T whose next-token logits are wanted
  void clear();
};

class LlamaForward {
 public:
  LlamaForward(const LlamaWeights& weights, KvPool& pool, const AttentionCalls& attention);

  // Runs the batch; the attention brick must already be planned for it. Writes
  // logits[logit_rows.size()][vocab].
  void run(const ForwardBatch& batch, std::vector<float>& logits);

 private:
  void attention_block(int32_t layer, const ForwardBatch& batch, int64_t tokens);
  void ffn_block(int32_t layer, int64_t tokens);

  const LlamaWeights& w_;
  KvPool& pool_;
  const AttentionCalls& attention_;
  // Scratch reused across steps.
  std::vector<float> x_, h_, q_, k_, v_, attn_, o_, gate_, up_, rows_;
};

}  // namespace bricks::engine
