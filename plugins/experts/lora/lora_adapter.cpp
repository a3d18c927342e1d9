#include "lora_adapter.h"

#include <algorithm>
#include <cmath>

#include "bricks/error.hpp"

namespace bricks_lora {
namespace {

using bricks::Error;

const char* proj_label(int32_t proj) {
  static const char* const kNames[] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                       "ffn_gate", "ffn_up", "ffn_down"};
  return proj >= 0 && proj < BRICKS_PROJ_COUNT_ ? kNames[proj] : "?";
}

std::string dims(int64_t rows, int64_t cols) {
  return "[" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
}

// Hugging Face q/k rows (rotate-half: i pairs with i + d/2) to the host's adjacent pairs.
void permute_rotate_half_rows(Matrix& b, int32_t heads, int32_t head_dim) {
  const int64_t half = head_dim / 2, cols = b.cols;
  std::vector<float> out(b.values.size());
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t dst = h * head_dim + 2 * j + k, src = h * head_dim + k * half + j;
        std::copy_n(b.values.begin() + src * cols, cols, out.begin() + dst * cols);
      }
    }
  }
  b.values.swap(out);
}

}  // namespace

void proj_dims(const bricks_adapter_base& base, int32_t proj, int32_t* in, int32_t* out) {
  const int32_t q = base.num_heads * base.head_dim, kv = base.num_kv_heads * base.head_dim;
  switch (proj) {
    case BRICKS_PROJ_Q:
      *in = base.hidden_dim;
      *out = q;
      return;
    case BRICKS_PROJ_K:
    case BRICKS_PROJ_V:
      *in = base.hidden_dim;
      *out = kv;
      return;
    case BRICKS_PROJ_O:
      *in = q;
      *out = base.hidden_dim;
      return;
    case BRICKS_PROJ_GATE:
    case BRICKS_PROJ_UP:
      *in = base.hidden_dim;
      *out = base.ffn_dim;
      return;
    case BRICKS_PROJ_DOWN:
      *in = base.ffn_dim;
      *out = base.hidden_dim;
      return;
    default:
      *in = *out = 0;
  }
}

std::unique_ptr<LoraAdapter> LoraAdapter::build(AdapterFile file, const bricks_adapter_base& base,
                                                float load_scale) {
  std::unique_ptr<LoraAdapter> a(new LoraAdapter());
  a->format_ = file.format;
  a->num_layers_ = base.num_layers;
  a->updates_.resize(static_cast<size_t>(base.num_layers) * BRICKS_PROJ_COUNT_);
  const std::string& where = file.path;
  if (file.pairs.empty()) {
    throw Error::invalid(where + ": the adapter holds no LoRA tensors");
  }
  bricks_adapter_info& info = a->info_;
  info.struct_size = sizeof(info);
  info.alpha = static_cast<float>(file.alpha);
  std::vector<bool> layer_used(static_cast<size_t>(base.num_layers), false);
  for (auto& [key, pair] : file.pairs) {
    const auto [layer, proj] = key;
    const std::string label = "layer " + std::to_string(layer) + " " + proj_label(proj);
    if (!pair.has_a || !pair.has_b) {
      const Matrix& have = pair.has_a ? pair.a : pair.b;
      throw Error::invalid(where + ": tensor '" + have.name + "' has no matching lora_" +
                           (pair.has_a ? "b" : "a") + " tensor for " + label +
                           "; the adapter is incomplete");
    }
    if (layer < 0 || layer >= base.num_layers) {
      throw Error::invalid(where + ": tensor '" + pair.a.name + "' is for layer " +
                           std::to_string(layer) + " but the model has " +
                           std::to_string(base.num_layers) +
                           " layers; the adapter was trained for another model");
    }
    int32_t in = 0, out = 0;
    proj_dims(base, proj, &in, &out);
    const int64_t rank = pair.a.rows;
    if (pair.a.cols != in || pair.b.rows != out || pair.b.cols != rank || rank < 1) {
      throw Error::invalid(where + ": " + label + ": lora_a '" + pair.a.name + "' is " +
                           dims(pair.a.rows, pair.a.cols) + " and lora_b '" + pair.b.name +
                           "' is " + dims(pair.b.rows, pair.b.cols) + "; the model needs [rank, " +
                           std::to_string(in) + "] and [" + std::to_string(out) +
                           ", rank] (the adapter was trained for another model shape)");
    }
    if (file.rotate_half_qk && (proj == BRICKS_PROJ_Q || proj == BRICKS_PROJ_K)) {
      permute_rotate_half_rows(pair.b, proj == BRICKS_PROJ_Q ? base.num_heads : base.num_kv_heads,
                               base.head_dim);
    }
    double scale = 1.0;
    if (file.format != "gguf" || file.alpha != 0.0) {  // llama.cpp: alpha 0 means scale 1
      scale = file.alpha /
              (file.rslora ? std::sqrt(static_cast<double>(rank)) : static_cast<double>(rank));
    }
    scale *= load_scale;

    auto u = std::make_unique<LoraUpdate>();
    u->rank = static_cast<int32_t>(rank);
    u->in_dim = in;
    u->out_dim = out;
    u->at.resize(static_cast<size_t>(in) * rank);
    u->bt.resize(static_cast<size_t>(out) * rank);
    for (int64_t r = 0; r < rank; ++r) {
      for (int64_t k = 0; k < in; ++k) u->at[k * rank + r] = pair.a.values[r * in + k];
      for (int64_t o = 0; o < out; ++o) {
        u->bt[r * out + o] = static_cast<float>(scale * pair.b.values[o * rank + r]);
      }
    }
    if (u->rank >= info.rank) {
      info.rank = u->rank;
      info.scale = static_cast<float>(scale);
    }
    info.targets |= 1u << proj;
    info.num_params += static_cast<int64_t>(u->at.size() + u->bt.size());
    layer_used[static_cast<size_t>(layer)] = true;
    a->updates_[static_cast<size_t>(layer) * BRICKS_PROJ_COUNT_ + proj] = std::move(u);
  }
  info.num_layers = static_cast<int32_t>(std::count(layer_used.begin(), layer_used.end(), true));
  info.format = a->format_.c_str();
  return a;
}

const LoraUpdate* LoraAdapter::at(int32_t layer, int32_t proj) const {
  if (layer < 0 || layer >= num_layers_ || proj < 0 || proj >= BRICKS_PROJ_COUNT_) return nullptr;
  return updates_[static_cast<size_t>(layer) * BRICKS_PROJ_COUNT_ + proj].get();
}

namespace {

void check_batch(const std::vector<std::unique_ptr<LoraAdapter>>& adapters,
                 const bricks_adapter_apply& b) {
  const std::string what = "adapter lora: apply: ";
  if (b.struct_size < sizeof(bricks_adapter_apply)) {
    throw Error::invalid(what + "struct_size " + std::to_string(b.struct_size) + " is too small");
  }
  if (b.proj < 0 || b.proj >= BRICKS_PROJ_COUNT_) {
    throw Error::invalid(what + "proj " + std::to_string(b.proj) + " is not a bricks_proj");
  }
  if (b.num_rows < 0 || b.num_segments < 0 || b.in_dim < 0 || b.out_dim < 0) {
    throw Error::invalid(what + "negative rows, segments or dims");
  }
  if (b.num_rows > 0 && (b.x == nullptr || b.y == nullptr)) {
    throw Error::invalid(what + "x and y must be set when there are rows");
  }
  if (b.seg_indptr == nullptr || (b.num_segments > 0 && b.seg_adapter == nullptr)) {
    throw Error::invalid(what + "seg_indptr and seg_adapter must be set");
  }
  if (b.seg_indptr[0] != 0 || b.seg_indptr[b.num_segments] != b.num_rows) {
    throw Error::invalid(what + "seg_indptr must run from 0 to num_rows (" +
                         std::to_string(b.num_rows) + ")");
  }
  for (int32_t s = 0; s < b.num_segments; ++s) {
    if (b.seg_indptr[s + 1] < b.seg_indptr[s]) {
      throw Error::invalid(what + "seg_indptr decreases at segment " + std::to_string(s));
    }
    const int32_t h = b.seg_adapter[s];
    if (h < -1 || h >= static_cast<int32_t>(adapters.size()) || (h >= 0 && !adapters[h])) {
      throw Error::invalid(what + "segment " + std::to_string(s) + " names adapter handle " +
                           std::to_string(h) + ", which is not loaded (-1 means none)");
    }
  }
}

}  // namespace

void apply_updates(const std::vector<std::unique_ptr<LoraAdapter>>& adapters,
                   const bricks_adapter_apply& b, std::vector<float>& scratch,
                   std::vector<int32_t>& rows) {
  check_batch(adapters, b);
  std::vector<uint8_t> done(adapters.size(), 0);  // handled with its first segment
  for (int32_t s = 0; s < b.num_segments; ++s) {
    const int32_t h = b.seg_adapter[s];
    if (h < 0 || done[static_cast<size_t>(h)] != 0) continue;
    done[static_cast<size_t>(h)] = 1;
    const LoraUpdate* u = adapters[h]->at(b.layer, b.proj);
    if (u == nullptr) continue;
    if (u->in_dim != b.in_dim || u->out_dim != b.out_dim) {
      throw Error::invalid("adapter lora: apply: layer " + std::to_string(b.layer) + " proj " +
                           proj_label(b.proj) + " is " + dims(b.out_dim, b.in_dim) +
                           " but the adapter was built for " + dims(u->out_dim, u->in_dim));
    }
    rows.clear();
    for (int32_t t = s; t < b.num_segments; ++t) {
      if (b.seg_adapter[t] != h) continue;
      for (int32_t r = b.seg_indptr[t]; r < b.seg_indptr[t + 1]; ++r) rows.push_back(r);
    }
    const int64_t n = static_cast<int64_t>(rows.size()), rank = u->rank;
    const int64_t in = u->in_dim, out = u->out_dim;
    scratch.assign(static_cast<size_t>(n * rank), 0.0f);
    // Shrink: t_i = A x_i. Ranks go in blocks of kBlock accumulators that stay in
    // registers over the whole input row (A^T rows are contiguous per input feature).
    constexpr int64_t kBlock = 16;
    for (int64_t i = 0; i < n; ++i) {
      const float* x = b.x + static_cast<int64_t>(rows[i]) * in;
      float* t = scratch.data() + i * rank;
      int64_t r0 = 0;
      for (; r0 + kBlock <= rank; r0 += kBlock) {
        float acc[kBlock] = {};
        for (int64_t k = 0; k < in; ++k) {
          const float* a = u->at.data() + k * rank + r0;
          for (int64_t r = 0; r < kBlock; ++r) acc[r] += x[k] * a[r];
        }
        for (int64_t r = 0; r < kBlock; ++r) t[r0 + r] = acc[r];
      }
      for (int64_t k = 0; r0 < rank && k < in; ++k) {  // the ranks past the last block
        const float* a = u->at.data() + k * rank;
        for (int64_t r = r0; r < rank; ++r) t[r] += x[k] * a[r];
      }
    }
    // Expand: y_i += (scale B) t_i, one pass over B^T.
    for (int64_t r = 0; r < rank; ++r) {
      const float* bt = u->bt.data() + r * out;
      for (int64_t i = 0; i < n; ++i) {
        const float tv = scratch[static_cast<size_t>(i * rank + r)];
        float* y = b.y + static_cast<int64_t>(rows[i]) * out;
        for (int64_t o = 0; o < out; ++o) y[o] += tv * bt[o];
      }
    }
  }
}

}  // namespace bricks_lora
