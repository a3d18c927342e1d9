#include "engine/llama_forward.h"

#include <cmath>

#include "cpu/cpu.h"

namespace bricks::engine {

void ForwardBatch::clear() {
  requests.clear();
  token_ids.clear();
  positions.clear();
  slots.clear();
  qo_indptr.assign(1, 0);
  logit_rows.clear();
}

const char* proj_name(Proj p) {
  switch (p) {
    case Proj::kQ: return "attn_q";
    case Proj::kK: return "attn_k";
    case Proj::kV: return "attn_v";
    case Proj::kO: return "attn_output";
    case Proj::kGate: return "ffn_gate";
    case Proj::kUp: return "ffn_up";
    case Proj::kDown: return "ffn_down";
  }
  return "?";
}

LlamaForward::LlamaForward(const LlamaWeights& weights, KvPool& pool,
                           const AttentionCalls& attention)
    : w_(weights), pool_(pool), attention_(attention) {}

void LlamaForward::project(int32_t layer, Proj p, const float* x, int64_t rows, float* y) {
  const LayerWeights& L = w_.layers[static_cast<size_t>(layer)];
  const cpu::Linear* lin = nullptr;
  switch (p) {
    case Proj::kQ: lin = L.wq.get(); break;
    case Proj::kK: lin = L.wk.get(); break;
    case Proj::kV: lin = L.wv.get(); break;
    case Proj::kO: lin = L.wo.get(); break;
    case Proj::kGate: lin = L.w_gate.get(); break;
    case Proj::kUp: lin = L.w_up.get(); break;
    case Proj::kDown: lin = L.w_down.get(); break;
  }
  lin->forward(x, rows, y);
  if (hook_) hook_(*batch_, layer, p, x, rows, y);
}

void LlamaForward::run(const ForwardBatch& batch, std::vector<float>& logits) {
  const model::LlamaConfig& c = w_.config;
  batch_ = &batch;
  const int64_t T = static_cast<int64_t>(batch.token_ids.size());
  const int64_t d = c.hidden;
  x_.resize(static_cast<size_t>(T * d));
  h_.resize(x_.size());
  cpu::embed_rows(w_.token_embd, batch.token_ids.data(), T, x_.data());

  for (int32_t l = 0; l < c.n_layers; ++l) {
    attention_block(l, batch, T);
    ffn_block(l, T);
  }

  // Final norm and the LM head, only for the rows that sample.
  const int64_t R = static_cast<int64_t>(batch.logit_rows.size());
  rows_.resize(static_cast<size_t>(R * d));
  for (int64_t r = 0; r < R; ++r) {
    const float* src = x_.data() + static_cast<int64_t>(batch.logit_rows[r]) * d;
    std::copy(src, src + d, rows_.data() + r * d);
  }
  cpu::rmsnorm(rows_.data(), w_.output_norm.data(), R, d, c.rms_eps, rows_.data());
  logits.resize(static_cast<size_t>(R * w_.output->rows()));
  if (R > 0) w_.output->forward(rows_.data(), R, logits.data());
}

void LlamaForward::attention_block(int32_t layer, const ForwardBatch& batch, int64_t T) {
  const model::LlamaConfig& c = w_.config;
  const LayerWeights& L = w_.layers[static_cast<size_t>(layer)];
  const int64_t d = c.hidden;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  q_.resize(static_cast<size_t>(T * q_dim));
  k_.resize(static_cast<size_t>(T * kv_dim));
  v_.resize(static_cast<size_t>(T * kv_dim));
  attn_.resize(q_.size());
  o_.resize(static_cast<size_t>(T * d));

  cpu::rmsnorm(x_.data(), L.attn_norm.data(), T, d, c.rms_eps, h_.data());
  project(layer, Proj::kQ, h_.data(), T, q_.data());
  project(layer, Proj::kK, h_.data(), T, k_.data());
  project(layer, Proj::kV, h_.data(), T, v_.data());
  cpu::rope(q_.data(), batch.positions.data(), T, c.n_heads, c.head_dim, c.rope_theta);
  cpu::rope(k_.data(), batch.positions.data(), T, c.n_kv_heads, c.head_dim, c.rope_theta);
  pool_.write(layer, k_.data(), v_.data(), batch.slots.data(), T);

  bricks_attention_io io{};
  io.struct_size = sizeof(io);
  io.q = q_.data();
  io.k_pool = pool_.k(layer);
  io.v_pool = pool_.v(layer);
  io.out = attn_.data();
  attention_.run(io);

  project(layer, Proj::kO, attn_.data(), T, o_.data());
  cpu::add_inplace(x_.data(), o_.data(), T * d);
}

void LlamaForward::ffn_block(int32_t layer, int64_t T) {
  const model::LlamaConfig& c = w_.config;
  const LayerWeights& L = w_.layers[static_cast<size_t>(layer)];
  const int64_t d = c.hidden;
  const int64_t f = c.ffn;
  gate_.resize(static_cast<size_t>(T * f));
  up_.resize(gate_.size());
  cpu::rmsnorm(x_.data(), L.ffn_norm.data(), T, d, c.rms_eps, h_.data());
  project(layer, Proj::kGate, h_.data(), T, gate_.data());
  project(layer, Proj::kUp, h_.data(), T, up_.data());
  cpu::silu_mul(gate_.data(), up_.data(), T * f, gate_.data());
  project(layer, Proj::kDown, gate_.data(), T, o_.data());
  cpu::add_inplace(x_.data(), o_.data(), T * d);
}

}  // namespace bricks::engine
