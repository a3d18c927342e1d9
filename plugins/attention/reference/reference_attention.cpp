// attention/reference: paged attention written as the plainest loops that can be checked by
// reading them. Softmax in double, one query row and one head at a time. Slow on purpose;
// every other attention brick is tested against it.
//
// Thread safety: one instance is used by one host thread at a time (abi.h rule).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bricks/attention_checks.hpp"
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"

namespace {

using bricks::Error;

// IEEE half -> float, spelled out field by field so it is easy to check.
double half_to_double(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(mantissa), -24);  // zero or subnormal
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude = std::ldexp(static_cast<double>(1024 + mantissa), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

class ReferenceAttention final : public bricks::Attention {
 public:
  ReferenceAttention(const bricks::Host& host, const bricks::Params& /*params*/)
      : Attention(host) {}

  // Checks every field the loops rely on, so `run` cannot read out of the arrays' bounds.
  void plan(const bricks_attention_batch& b) override {
    planned_ = false;
    bricks::check_attention_batch(b, "reference");
    batch_ = b;
    planned_ = true;
  }

  void run(const bricks_attention_io& io) override {
    if (!planned_)
      throw Error::invalid("attention reference: run called without a successful plan");
    if (io.q == nullptr || io.out == nullptr || io.k_pool == nullptr || io.v_pool == nullptr) {
      throw Error::invalid("attention reference: q, k_pool, v_pool and out must all be set");
    }
    if ((io.scores == nullptr) != (io.score_rows == nullptr)) {
      throw Error::invalid("attention reference: set both scores and score_rows, or neither");
    }
    const bricks_attention_batch& b = batch_;
    const bricks_page_table& t = b.kv;
    const int32_t group = b.num_qo_heads / b.num_kv_heads;
    const int32_t dim = b.head_dim;
    int64_t kv_offset = 0;
    for (int32_t s = 0; s < t.batch; ++s) {
      const int32_t pages = t.indptr[s + 1] - t.indptr[s];
      const int32_t kv_len = (pages - 1) * t.page_size + t.last_page_len[s];
      const int32_t row0 = b.qo_indptr[s];
      const int32_t qo_len = b.qo_indptr[s + 1] - row0;
      if (io.scores != nullptr) std::fill_n(io.scores + kv_offset, kv_len, 0.0f);
      std::vector<double> logits(static_cast<size_t>(kv_len));
      std::vector<double> keys, values;  // [kv_len][head_dim] of one kv head
      for (int32_t kv_head = 0; kv_head < b.num_kv_heads; ++kv_head) {
        gather(io.k_pool, s, kv_len, kv_head, keys);
        gather(io.v_pool, s, kv_len, kv_head, values);
        for (int32_t h = kv_head * group; h < (kv_head + 1) * group; ++h) {
          for (int32_t r = 0; r < qo_len; ++r) {
            const int32_t position = kv_len - qo_len + r;
            const int32_t visible = b.causal ? position + 1 : kv_len;
            const float* q = io.q + (int64_t{row0 + r} * b.num_qo_heads + h) * dim;
            double max_logit = -std::numeric_limits<double>::infinity();
            for (int32_t j = 0; j < visible; ++j) {
              double dot = 0.0;
              for (int32_t d = 0; d < dim; ++d) dot += double{q[d]} * keys[int64_t{j} * dim + d];
              logits[j] = dot * b.sm_scale;
              max_logit = std::max(max_logit, logits[j]);
            }
            double denominator = 0.0;
            for (int32_t j = 0; j < visible; ++j) {
              logits[j] = std::exp(logits[j] - max_logit);
              denominator += logits[j];
            }
            float* out = io.out + (int64_t{row0 + r} * b.num_qo_heads + h) * dim;
            for (int32_t d = 0; d < dim; ++d) {
              double acc = 0.0;
              for (int32_t j = 0; j < visible; ++j) acc += logits[j] * values[int64_t{j} * dim + d];
              out[d] = static_cast<float>(acc / denominator);
            }
            if (io.score_rows != nullptr && io.score_rows[row0 + r] != 0) {
              for (int32_t j = 0; j < visible; ++j) {
                io.scores[kv_offset + j] +=
                    static_cast<float>(logits[j] / denominator / b.num_qo_heads);
              }
            }
          }
        }
      }
      kv_offset += kv_len;
    }
  }

 private:
  // out[j][d] = element d of head `kv_head` of token j < kv_len of sequence s, read from a
  // pool laid out [block][page_size][num_kv_heads][head_dim].
  void gather(const void* pool, int32_t s, int32_t kv_len, int32_t kv_head,
              std::vector<double>& out) const {
    const bricks_page_table& t = batch_.kv;
    const int32_t dim = batch_.head_dim;
    out.resize(static_cast<size_t>(kv_len) * dim);
    for (int32_t j = 0; j < kv_len; ++j) {
      const int64_t block = t.indices[t.indptr[s] + j / t.page_size];
      const int64_t slot = block * t.page_size + j % t.page_size;
      const int64_t first = (slot * batch_.num_kv_heads + kv_head) * dim;
      for (int32_t d = 0; d < dim; ++d) {
        out[int64_t{j} * dim + d] =
            batch_.kv_dtype == BRICKS_DTYPE_F32
                ? double{static_cast<const float*>(pool)[first + d]}
                : half_to_double(static_cast<const uint16_t*>(pool)[first + d]);
      }
    }
  }

  bricks_attention_batch batch_{};
  bool planned_ = false;
};

const char* const kProvides[] = {BRICKS_CAP_DEVICE_CPU, BRICKS_CAP_KV_F32, BRICKS_CAP_KV_F16,
                                 BRICKS_CAP_ATTENTION_SCORES};

}  // namespace

BRICKS_PLUGIN("bricks_attention_reference", "1.0.0", "Apache-2.0",
              bricks::describe<ReferenceAttention>(
                  "reference", "1.0.0",
                  "Plain-loop paged attention in double precision; the correctness yardstick.")
                  .provides(kProvides))
