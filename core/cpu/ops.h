// Elementwise and row operations of a Llama forward pass. All pointers are f32 arrays with
// the stated shapes, rows contiguous; outputs may alias inputs where noted.
#pragma once

#include <cstdint>
#include <vector>

namespace bricks::cpu {

// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, for rows r < rows of `dim` values.
// y may equal x.
void rmsnorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* y);

// Rotary embedding in place on x[tokens][heads][head_dim], adjacent-pair layout: the pair
// (2i, 2i+1) of token t turns by positions[t] * theta^(-2i / head_dim). head_dim must be
// even (bricks::Error otherwise). rope_angles then rope_apply, for one use of the angles.
void rope(float* x, const int32_t* positions, int64_t tokens, int32_t heads, int32_t head_dim,
          float theta);

// The cosines and sines of rope's angles, for every layer's q and k of one batch:
// table[t * head_dim + i] = cos and table[t * head_dim + head_dim / 2 + i] = sin of
// positions[t] * theta^(-2i / head_dim) (angles in double: positions reach 10^5, where f32
// loses the fraction of a turn). Resizes `table` to tokens * head_dim floats. head_dim must be
// even (bricks::Error otherwise).
void rope_angles(const int32_t* positions, int64_t tokens, int32_t head_dim, float theta,
                 std::vector<float>& table);

// rope() with the angles of rope_angles(positions, tokens, head_dim, theta, table): the same
// result, bit for bit, without computing a cosine.
void rope_apply(float* x, const float* table, int64_t tokens, int32_t heads, int32_t head_dim);

// out = silu(gate) * up, silu(g) = g / (1 + exp(-g)). out may equal gate or up.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

// y += x.
void add_inplace(float* y, const float* x, int64_t n);

// In place: x = exp(x - max) / sum(exp(x - max)) over n values (n >= 1). -inf entries get 0.
void softmax(float* x, int64_t n);

// Index of the largest value (the first one on ties; NaN never wins); -1 when n <= 0 or
// every value is NaN.
int64_t argmax(const float* x, int64_t n);

}  // namespace bricks::cpu
