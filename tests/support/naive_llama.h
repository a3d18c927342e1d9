// A deliberately plain Llama forward pass (loops only, double accumulation) over an f32
// model, used as the reference the engine's logits must match. Subclasses replace the
// FFN (naive_moe.h: Mixtral experts).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bricks/model/model.h"

namespace bricks::testing {

class NaiveLlama {
 public:
  explicit NaiveLlama(const model::Model& m) : m_(m), c_(m.config()) {}
  virtual ~NaiveLlama() = default;

  // The FFN of layer `layer` for one normalised input row: SwiGLU of the dense weights.
  virtual std::vector<double> ffn(int layer, const std::vector<double>& h) const {
    const std::string p = "blk." + std::to_string(layer) + ".";
    auto g = matvec(w(p + "ffn_gate.weight"), h, c_.ffn);
    auto u = matvec(w(p + "ffn_up.weight"), h, c_.ffn);
    for (int i = 0; i < c_.ffn; ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    return matvec(w(p + "ffn_down.weight"), g, c_.hidden);
  }

  // Logits after the last token of `tokens` (processed from position 0).
  std::vector<float> logits(const std::vector<int32_t>& tokens) const {
    const int d = c_.hidden, hd = c_.head_dim, nh = c_.n_heads, nkv = c_.n_kv_heads;
    const int T = static_cast<int>(tokens.size());
    std::vector<std::vector<double>> x(T, std::vector<double>(d));
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < d; ++i) x[t][i] = w("token_embd.weight")[tokens[t] * d + i];
    }
    for (int l = 0; l < c_.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      std::vector<std::vector<double>> q(T), k(T), v(T);
      for (int t = 0; t < T; ++t) {
        auto h = rmsnorm(x[t], w(p + "attn_norm.weight"));
        q[t] = matvec(w(p + "attn_q.weight"), h, nh * hd);
        k[t] = matvec(w(p + "attn_k.weight"), h, nkv * hd);
        v[t] = matvec(w(p + "attn_v.weight"), h, nkv * hd);
        rope(q[t], t, nh);
        rope(k[t], t, nkv);
      }
      for (int t = 0; t < T; ++t) {
        std::vector<double> att(nh * hd, 0.0);
        for (int h = 0; h < nh; ++h) {
          const int kh = h / (nh / nkv);
          std::vector<double> s(t + 1);
          double mx = -1e300;
          for (int j = 0; j <= t; ++j) {
            double dot = 0;
            for (int i = 0; i < hd; ++i) dot += q[t][h * hd + i] * k[j][kh * hd + i];
            s[j] = dot / std::sqrt(static_cast<double>(hd));
            mx = std::max(mx, s[j]);
          }
          double sum = 0;
          for (int j = 0; j <= t; ++j) sum += (s[j] = std::exp(s[j] - mx));
          for (int j = 0; j <= t; ++j) {
            for (int i = 0; i < hd; ++i) att[h * hd + i] += s[j] / sum * v[j][kh * hd + i];
          }
        }
        auto o = matvec(w(p + "attn_output.weight"), att, d);
        for (int i = 0; i < d; ++i) x[t][i] += o[i];
        auto y = ffn(l, rmsnorm(x[t], w(p + "ffn_norm.weight")));
        for (int i = 0; i < d; ++i) x[t][i] += y[i];
      }
    }
    auto h = rmsnorm(x[T - 1], w("output_norm.weight"));
    const std::string head = m_.find("output.weight") ? "output.weight" : "token_embd.weight";
    auto out = matvec(w(head), h, c_.vocab_size);
    return std::vector<float>(out.begin(), out.end());
  }

 protected:
  const float* w(const std::string& name) const {
    return static_cast<const float*>(m_.tensor(name).data);
  }
  std::vector<double> rmsnorm(const std::vector<double>& x, const float* g) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + c_.rms_eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * g[i];
    return y;
  }
  // y[n] = sum_k W[n][k] x[k], W stored [rows][cols] with cols = x.size().
  static std::vector<double> matvec(const float* W, const std::vector<double>& x, int rows) {
    const size_t cols = x.size();
    std::vector<double> y(static_cast<size_t>(rows), 0.0);
    for (int n = 0; n < rows; ++n) {
      for (size_t k = 0; k < cols; ++k) y[n] += W[n * cols + k] * x[k];
    }
    return y;
  }
  // Adjacent-pair rotary embedding at position `pos`.
  void rope(std::vector<double>& v, int pos, int heads) const {
    const int hd = c_.head_dim;
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < hd / 2; ++i) {
        const double theta = pos * std::pow(static_cast<double>(c_.rope_theta), -2.0 * i / hd);
        const double a = v[h * hd + 2 * i], b = v[h * hd + 2 * i + 1];
        v[h * hd + 2 * i] = a * std::cos(theta) - b * std::sin(theta);
        v[h * hd + 2 * i + 1] = a * std::sin(theta) + b * std::cos(theta);
      }
    }
  }

  const model::Model& m_;
  model::LlamaConfig c_;
};

}  // namespace bricks::testing
