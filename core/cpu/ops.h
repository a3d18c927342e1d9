// Elementwise and row operations of a Llama forward pass. All pointers are f32 arrays with
// the stated shapes, rows contiguous; outputs may alias inputs where noted.
#pragma once

#include <cstdint>

namespace bricks::cpu {

// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, for rows r < rows of `dim` values.
// y may equal x.
void rmsnorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* y);

// Rotary embedding in place on x[tokens][heads][head_dim], adjacent-pair layout: the pair
// (2i, 2i+1) of token t turns by positions[t] * theta^(-2i / head_dim). head_dim must be
// even (bricks::Error otherwise).
void rope(float* x, const int32_t* positions, int64_t tokens, int32_t heads, int32_t head_dim,
          float theta);

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
