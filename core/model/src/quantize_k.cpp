// Encoders of ggml's k-quant super-blocks (256 values), choosing scales as llama.cpp's
// reference quantizer does when no importance matrix is given:
//   q4_K, q5_K  each 32-value sub-block gets a scale s >= 0 and a minimum -m <= 0 from a
//               small search minimising the weighted squared error of s * q - m (weights
//               rms(sub-block) + |x|); the 8 scales and 8 minimums are then stored as 6-bit
//               multiples of d = max(s) / 63 and dmin = max(m) / 63, and every value is coded
//               again against the stored scale and minimum.
//   q6_K        each 16-value sub-block gets a signed scale from a search weighted by x^2
//               with codes in [-32, 31]; the 16 scales are int8 multiples of d = (the scale of
//               largest magnitude) / -128, and the values are coded again against them.
// The arithmetic follows the reference step for step (same operations, same order, the
// same round-half-to-even), so the bytes match llama-quantize's on the same input.
#include <algorithm>
#include <cmath>

#include "bricks/model/dtype.h"
#include "quantize_k.h"

namespace bricks::model::quant {
namespace {

constexpr int kSub = 32;               // values per q4_K/q5_K sub-block
constexpr int kSubs = kQKK / kSub;     // 8
constexpr int kSub6 = 16;              // values per q6_K sub-block
constexpr int kSubs6 = kQKK / kSub6;   // 16
constexpr float kNegligible = 1e-15f;  // a q6_K sub-block whose values are all below is zero

// The grid search of one q4_K/q5_K sub-block: `first_step`, `step` and `steps` say which
// code ranges are tried besides the value range's own (nmax + first_step + k * step for k in
// [0, steps]).
struct ScaleSearch {
  int nmax;
  float first_step, step;
  int steps;
};
constexpr ScaleSearch kQ4KSearch{15, -1.f, 0.1f, 20};
constexpr ScaleSearch kQ5KSearch{31, -0.5f, 0.1f, 15};

// Fits s >= 0 and m >= 0 so that s * L[i] - m, L[i] in [0, nmax], approximates x[i] in the
// w-weighted squared error. The first candidate spreads [min(x, 0), max(x)] over the codes;
// each other candidate stretches the grid from the best offset so far to max(x), rounds,
// and solves the weighted least squares for scale and offset (the offset capped at 0, i.e.
// m >= 0). The best candidate wins. Returns s and stores m in *m_out and the codes in L.
float fit_scale_min(const ScaleSearch& sr, const float* x, const float* w, uint8_t* L,
                    float* m_out) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < kSub; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0.f) lo = 0.f;
  if (hi == lo) {
    std::fill(L, L + kSub, uint8_t{0});
    *m_out = -lo;
    return 0.f;
  }
  float offset = lo;
  float inv = static_cast<float>(sr.nmax) / (hi - offset);
  float scale = 1.f / inv;
  float best = 0.f;
  for (int i = 0; i < kSub; ++i) {
    L[i] = static_cast<uint8_t>(std::clamp(nearest_int(inv * (x[i] - offset)), 0, sr.nmax));
    const float diff = scale * L[i] + offset - x[i];
    best += w[i] * (diff * diff);
  }
  uint8_t trial[kSub];
  for (int k = 0; k <= sr.steps; ++k) {
    inv = (sr.first_step + sr.step * static_cast<float>(k) + static_cast<float>(sr.nmax)) /
          (hi - offset);
    float sum_l = 0.f, sum_l2 = 0.f, sum_xl = 0.f;
    for (int i = 0; i < kSub; ++i) {
      const int l = std::clamp(nearest_int(inv * (x[i] - offset)), 0, sr.nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float wl = w[i] * static_cast<float>(l);
      sum_l += wl;
      sum_l2 += wl * static_cast<float>(l);
      sum_xl += wl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.f)) continue;
    float s = (sum_w * sum_xl - sum_x * sum_l) / det;
    float o = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (o > 0.f) {  // the format only subtracts a minimum
      o = 0.f;
      s = sum_xl / sum_l2;
    }
    float err = 0.f;
    for (int i = 0; i < kSub; ++i) {
      const float diff = s * trial[i] + o - x[i];
      err += w[i] * (diff * diff);
    }
    if (err < best) {
      std::copy(trial, trial + kSub, L);
      best = err;
      scale = s;
      offset = o;
    }
  }
  *m_out = -offset;
  return scale;
}

// Stores sub-block j's 6-bit scale and minimum where scale_min_k4 finds them; `q` starts
// zeroed and sub-blocks 0..3 are stored before 4..7.
void put_scale_min_k4(int j, uint8_t sc, uint8_t mn, uint8_t* q) {
  if (j < 4) {
    q[j] = sc;
    q[j + 4] = mn;
  } else {
    q[j + 4] = static_cast<uint8_t>((sc & 15) | (mn & 15) << 4);
    q[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    q[j] |= static_cast<uint8_t>((mn >> 4) << 6);
  }
}

// A whole q4_K/q5_K super-block as codes (one per value, in [0, nmax]), d, dmin and the
// packed scales; the formats differ only in how codes are packed.
struct SuperBlockK {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t codes[kQKK];
};

SuperBlockK fit_super_block(const ScaleSearch& sr, const float* x) {
  SuperBlockK out{};
  float scale[kSubs], min[kSubs], w[kSub];
  float max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < kSubs; ++j) {
    const float* xs = x + kSub * j;
    float sum_x2 = 0.f;
    for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
    const float rms = std::sqrt(sum_x2 / kSub);
    for (int l = 0; l < kSub; ++l) w[l] = rms + std::fabs(xs[l]);
    scale[j] = fit_scale_min(sr, xs, w, out.codes + kSub * j, &min[j]);
    if (scale[j] > max_scale) max_scale = scale[j];
    if (min[j] > max_min) max_min = min[j];
  }
  const float inv_scale = max_scale > 0.f ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0.f ? 63.f / max_min : 0.f;
  for (int j = 0; j < kSubs; ++j) {
    const auto sc = static_cast<uint8_t>(std::clamp(nearest_int(inv_scale * scale[j]), 0, 63));
    const auto mn = static_cast<uint8_t>(std::clamp(nearest_int(inv_min * min[j]), 0, 63));
    put_scale_min_k4(j, sc, mn, out.scales);
  }
  out.d = f32_to_f16(max_scale / 63.f);
  out.dmin = f32_to_f16(max_min / 63.f);

  // Code every value again against the scale and minimum the block really stores.
  const float d = f16_to_f32(out.d), dmin = f16_to_f32(out.dmin);
  for (int j = 0; j < kSubs; ++j) {
    uint8_t sc, mn;
    scale_min_k4(j, out.scales, &sc, &mn);
    const float ds = d * sc;
    if (ds == 0.f) continue;  // every value decodes to -dmin * mn whatever its code
    const float ms = dmin * mn;
    for (int l = 0; l < kSub; ++l) {
      const int q = nearest_int((x[kSub * j + l] + ms) / ds);
      out.codes[kSub * j + l] = static_cast<uint8_t>(std::clamp(q, 0, sr.nmax));
    }
  }
  return out;
}

// Sub-blocks 2g (low nibbles) and 2g+1 (high nibbles) share qs[32g .. 32g+32).
void pack_k_nibbles(const uint8_t* codes, uint8_t* qs) {
  for (int g = 0; g < kSubs / 2; ++g) {
    for (int l = 0; l < kSub; ++l) {
      qs[kSub * g + l] = static_cast<uint8_t>((codes[2 * kSub * g + l] & 15) |
                                              (codes[2 * kSub * g + kSub + l] & 15) << 4);
    }
  }
}

// Fits a signed scale to n values with codes in [-nmax, nmax): the value of largest
// magnitude takes code -nmax, then 18 grids within +-0.9 codes of that are tried, each
// scored by the x^2-weighted least-squares scale it allows; the best wins. Returns the scale
// (the sign makes that value's code -nmax) and stores codes + nmax in L.
float fit_signed_scale(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0.f, max = 0.f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > amax) {
      amax = a;
      max = x[i];
    }
  }
  if (amax < kNegligible) {
    std::fill(L, L + n, int8_t{0});
    return 0.f;
  }
  // The weighted sums of the grid `inv`: sum x^2 * x * l and sum x^2 * l^2.
  auto score = [&](float inv, float* sum_lx, float* sum_l2) {
    *sum_lx = 0.f;
    *sum_l2 = 0.f;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(inv * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *sum_lx += w * x[i] * static_cast<float>(l);
      *sum_l2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
  };
  auto store = [&](float inv) {
    for (int i = 0; i < n; ++i) {
      L[i] = static_cast<int8_t>(nmax + std::clamp(nearest_int(inv * x[i]), -nmax, nmax - 1));
    }
  };
  float inv = static_cast<float>(-nmax) / max;
  float sum_lx, sum_l2;
  score(inv, &sum_lx, &sum_l2);
  store(inv);
  float scale = sum_l2 != 0.f ? sum_lx / sum_l2 : 0.f;
  float best = scale * sum_lx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    inv = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    score(inv, &sum_lx, &sum_l2);
    if (sum_l2 > 0.f && sum_lx * sum_lx > best * sum_l2) {
      store(inv);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

}  // namespace

BlockQ4_K encode_q4_k(const float* x) {
  const SuperBlockK s = fit_super_block(kQ4KSearch, x);
  BlockQ4_K b;
  b.d = s.d;
  b.dmin = s.dmin;
  std::copy(s.scales, s.scales + 12, b.scales);
  pack_k_nibbles(s.codes, b.qs);
  return b;
}

BlockQ5_K encode_q5_k(const float* x) {
  const SuperBlockK s = fit_super_block(kQ5KSearch, x);
  BlockQ5_K b;
  b.d = s.d;
  b.dmin = s.dmin;
  std::copy(s.scales, s.scales + 12, b.scales);
  pack_k_nibbles(s.codes, b.qs);
  // The fifth bit of sub-block j's value l is bit j of qh[l].
  std::fill(b.qh, b.qh + kQKK / 8, uint8_t{0});
  for (int j = 0; j < kSubs; ++j) {
    for (int l = 0; l < kSub; ++l) {
      b.qh[l] |= static_cast<uint8_t>(((s.codes[kSub * j + l] >> 4) & 1) << j);
    }
  }
  return b;
}

BlockQ6_K encode_q6_k(const float* x) {
  BlockQ6_K b{};
  int8_t codes[kQKK];
  float scale[kSubs6];
  float max_scale = 0.f, max_abs = 0.f;
  for (int j = 0; j < kSubs6; ++j) {
    scale[j] = fit_signed_scale(kSub6, 32, x + kSub6 * j, codes + kSub6 * j);
    const float a = std::fabs(scale[j]);
    if (a > max_abs) {
      max_abs = a;
      max_scale = scale[j];
    }
  }
  if (max_abs < kNegligible) return b;  // all zero: d = 0 and every code 0

  const float inv = -128.f / max_scale;
  b.d = f32_to_f16(1.f / inv);
  for (int j = 0; j < kSubs6; ++j) {
    b.scales[j] = static_cast<int8_t>(std::clamp(nearest_int(inv * scale[j]), -128, 127));
  }
  // Code every value again against the scale the block really stores.
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kSubs6; ++j) {
    const float ds = d * b.scales[j];
    if (ds == 0.f) continue;
    for (int l = 0; l < kSub6; ++l) {
      const int q = nearest_int(x[kSub6 * j + l] / ds);
      codes[kSub6 * j + l] = static_cast<int8_t>(32 + std::clamp(q, -32, 31));
    }
  }
  // Per half h (128 values): value l + 32k (k = 0..3) keeps its low 4 bits in ql (k = 0, 1 in
  // the low nibbles of ql[l], ql[l + 32]; k = 2, 3 in their high nibbles) and its top 2 bits
  // in bits 2k, 2k+1 of qh[l].
  for (int h = 0; h < 2; ++h) {
    const int8_t* c = codes + 128 * h;
    uint8_t* ql = b.ql + 64 * h;
    uint8_t* qh = b.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q0 = c[l], q1 = c[l + 32], q2 = c[l + 64], q3 = c[l + 96];
      ql[l] = static_cast<uint8_t>((q0 & 15) | (q2 & 15) << 4);
      ql[l + 32] = static_cast<uint8_t>((q1 & 15) | (q3 & 15) << 4);
      qh[l] = static_cast<uint8_t>((q0 >> 4) | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
    }
  }
  return b;
}

}  // namespace bricks::model::quant
