#include "engine/llama_forward.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "cpu/cpu.h"
#include "engine/image_input.h"
#include "engine/prune_stage.h"
#include "engine/weight_stream.h"

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

const cpu::Linear& LlamaForward::linear(Proj p) const {
  const LayerWeights& L = *layer_;
  switch (p) {
    case Proj::kQ:
      return *L.wq;
    case Proj::kK:
      return *L.wk;
    case Proj::kV:
      return *L.wv;
    case Proj::kO:
      return *L.wo;
    case Proj::kGate:
      return *L.w_gate;
    case Proj::kUp:
      return *L.w_up;
    case Proj::kDown:
      return *L.w_down;
  }
  throw std::logic_error("unknown projection");
}

void LlamaForward::project(int32_t layer, Proj p, const float* x, int64_t rows, float* y) {
  linear(p).forward(x, rows, y);
  if (hook_) hook_(*batch_, layer, p, x, rows, y);
}

template <size_t N>
void LlamaForward::project_same(int32_t layer, const Proj (&ps)[N], const float* x, int64_t rows,
                                float* const (&ys)[N]) {
  const cpu::Linear* lins[N];
  for (size_t i = 0; i < N; ++i) lins[i] = &linear(ps[i]);
  cpu::Linear::forward_same_input(lins, x, rows, ys);
  if (!hook_) return;
  for (size_t i = 0; i < N; ++i) hook_(*batch_, layer, ps[i], x, rows, ys[i]);
}

int64_t LlamaForward::use_batch(const ForwardBatch& batch) {
  batch_ = &batch;
  const int64_t T = batch.num_tokens();
  cpu::rope_angles(batch.positions.data(), T, w_.config.head_dim, w_.config.rope_theta,
                   rope_table_);
  return T;
}

void LlamaForward::run(const ForwardBatch& batch, std::vector<float>& logits) {
  const model::LlamaConfig& c = w_.config;
  int64_t T = use_batch(batch);
  const int64_t d = c.hidden;
  embed_inputs(batch, T);

  // With pruning, the stage's batch replaces the engine's after each pruning point and at
  // each KV group's first layer; a batch left with no rows skips the remaining layers.
  for (int32_t l = 0; l < c.n_layers && T > 0; ++l) {
    if (stage_ != nullptr && layout_->opens_group(l)) {
      T = use_batch(stage_->open_group(l, x_));
      h_.resize(x_.size());
      if (T == 0) break;
    }
    if (stream_ != nullptr && stream_->streams(l)) {
      const LayerWeights& L = stream_->acquire(l);
      struct Release {
        WeightStream& s;
        int32_t l;
        ~Release() { s.release(l); }
      } release{*stream_, l};
      run_layer(l, L, T);
    } else {
      run_layer(l, w_.layers[static_cast<size_t>(l)], T);
    }
    if (stage_ != nullptr && layout_->prunes_after(l)) {
      T = use_batch(stage_->prune(l, x_));
      h_.resize(x_.size());
    }
  }

  // Final norm and the LM head, only for the rows that sample.
  const ForwardBatch& out = *batch_;
  const int64_t R = T > 0 ? static_cast<int64_t>(out.logit_rows.size()) : 0;
  rows_.resize(static_cast<size_t>(R * d));
  for (int64_t r = 0; r < R; ++r) {
    const float* src = x_.data() + static_cast<int64_t>(out.logit_rows[r]) * d;
    std::copy(src, src + d, rows_.data() + r * d);
  }
  cpu::rmsnorm(rows_.data(), w_.output_norm.data(), R, d, c.rms_eps, rows_.data());
  const int64_t vocab = w_.output->rows();
  std::vector<float>& dst = stage_ != nullptr ? pruned_logits_ : logits;
  dst.resize(static_cast<size_t>(R * vocab));
  if (R > 0) w_.output->forward(rows_.data(), R, dst.data());
  if (stage_ == nullptr) return;
  // Rows of sequences that left the batch (failed) stay zero; the engine fails them.
  logits.assign(static_cast<size_t>(batch.logit_rows.size()) * static_cast<size_t>(vocab), 0.0f);
  const std::vector<int32_t>& index = stage_->logit_index();
  for (int64_t r = 0; r < R; ++r) {
    std::copy_n(pruned_logits_.data() + r * vocab, vocab,
                logits.data() + static_cast<int64_t>(index[static_cast<size_t>(r)]) * vocab);
  }
}

void LlamaForward::set_pruning(const KvGroupLayout* layout, PruneStage* stage) {
  if (layout != nullptr && layout->num_layers != w_.config.n_layers) {
    throw std::invalid_argument("set_pruning: the KV layout is for " +
                                std::to_string(layout->num_layers) + " layers, the model has " +
                                std::to_string(w_.config.n_layers));
  }
  if (stage != nullptr && layout == nullptr) {
    throw std::invalid_argument("set_pruning: a prune stage needs its KV layout");
  }
  layout_ = layout;
  stage_ = stage;
}

void LlamaForward::embed_inputs(const ForwardBatch& batch, int64_t T) {
  const int64_t d = w_.config.hidden;
  x_.resize(static_cast<size_t>(T * d));
  h_.resize(x_.size());
  bool images = false;
  for (const Request* r : batch.requests) images = images || !r->spec.images.empty();
  if (!images) {
    cpu::embed_rows(w_.token_embd, batch.token_ids.data(), T, x_.data());
    return;
  }
  // Placeholder ids are not in the vocabulary: embed a stand-in, then write the image rows.
  ids_.assign(batch.token_ids.begin(), batch.token_ids.end());
  for (int32_t& id : ids_) id = std::max(id, 0);
  cpu::embed_rows(w_.token_embd, ids_.data(), T, x_.data());
  for (int32_t b = 0; b < batch.num_seqs(); ++b) {
    const RequestSpec& spec = batch.requests[static_cast<size_t>(b)]->spec;
    if (spec.images.empty()) continue;
    for (int32_t row = batch.qo_indptr[b]; row < batch.qo_indptr[b + 1]; ++row) {
      const float* src =
          image_row(spec, batch.positions[static_cast<size_t>(row)], static_cast<int32_t>(d));
      if (src != nullptr) std::copy_n(src, d, x_.data() + row * d);
    }
  }
}

void LlamaForward::run_layer(int32_t layer, const LayerWeights& L, int64_t T) {
  layer_ = &L;
  attention_block(layer, *batch_, T);
  ffn_block(layer, L, T);
  layer_ = nullptr;
}

void LlamaForward::attention_block(int32_t layer, const ForwardBatch& batch, int64_t T) {
  const model::LlamaConfig& c = w_.config;
  const int64_t d = c.hidden;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  q_.resize(static_cast<size_t>(T * q_dim));
  k_.resize(static_cast<size_t>(T * kv_dim));
  v_.resize(static_cast<size_t>(T * kv_dim));
  attn_.resize(q_.size());
  o_.resize(static_cast<size_t>(T * d));

  const std::vector<float>& norm = w_.layers[static_cast<size_t>(layer)].attn_norm;
  cpu::rmsnorm(x_.data(), norm.data(), T, d, c.rms_eps, h_.data());
  project_same(layer, {Proj::kQ, Proj::kK, Proj::kV}, h_.data(), T,
               {q_.data(), k_.data(), v_.data()});
  cpu::rope_apply(q_.data(), rope_table_.data(), T, c.n_heads, c.head_dim);
  cpu::rope_apply(k_.data(), rope_table_.data(), T, c.n_kv_heads, c.head_dim);
  const int32_t slab =
      layout_ != nullptr ? layout_->slab_of_layer[static_cast<size_t>(layer)] : layer;
  if (copier_ != nullptr) copier_->wait_layer(slab);
  pool_.write(slab, k_.data(), v_.data(), batch.slots.data(), T);

  bricks_attention_io io{};
  io.struct_size = sizeof(io);
  io.q = q_.data();
  io.k_pool = pool_.k(slab);
  io.v_pool = pool_.v(slab);
  io.out = attn_.data();
  if (stage_ != nullptr) stage_->scores_for(layer, &io.score_rows, &io.scores);
  attention_.run(io);
  if (io.scores != nullptr) stage_->after_attention(layer, q_.data(), k_.data());

  project(layer, Proj::kO, attn_.data(), T, o_.data());
  cpu::add_inplace(x_.data(), o_.data(), T * d);
}

void LlamaForward::set_layer_ffn(int32_t layer, LayerFfn* ffn) {
  if (layer < 0 || layer >= w_.config.n_layers) {
    throw std::out_of_range("set_layer_ffn: layer " + std::to_string(layer) + " of " +
                            std::to_string(w_.config.n_layers));
  }
  layer_ffn_.resize(static_cast<size_t>(w_.config.n_layers), nullptr);
  layer_ffn_[static_cast<size_t>(layer)] = ffn;
}

void LlamaForward::ffn_block(int32_t layer, const LayerWeights& L, int64_t T) {
  const model::LlamaConfig& c = w_.config;
  const int64_t d = c.hidden;
  const int64_t f = c.ffn;
  const std::vector<float>& norm = w_.layers[static_cast<size_t>(layer)].ffn_norm;
  cpu::rmsnorm(x_.data(), norm.data(), T, d, c.rms_eps, h_.data());
  LayerFfn* routed = layer_ffn_.empty() ? nullptr : layer_ffn_[static_cast<size_t>(layer)];
  if (routed != nullptr || L.w_gate == nullptr) {
    if (routed == nullptr) {
      throw std::logic_error("layer " + std::to_string(layer) +
                             " is a mixture-of-experts layer and no router was set for it");
    }
    o_.resize(static_cast<size_t>(T * d));
    routed->forward(layer, h_.data(), T, o_.data());
    cpu::add_inplace(x_.data(), o_.data(), T * d);
    return;
  }
  gate_.resize(static_cast<size_t>(T * f));
  up_.resize(gate_.size());
  project_same(layer, {Proj::kGate, Proj::kUp}, h_.data(), T, {gate_.data(), up_.data()});
  cpu::silu_mul(gate_.data(), up_.data(), T * f, gate_.data());
  project(layer, Proj::kDown, gate_.data(), T, o_.data());
  cpu::add_inplace(x_.data(), o_.data(), T * d);
}

}  // namespace bricks::engine
