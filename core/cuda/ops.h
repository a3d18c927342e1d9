// The cuda device's element-wise and row kernels: everything of the forward pass that is
// not a matrix product (cuBLAS) or attention (the attention brick). Activations are f32;
// the inputs of matrix products are 16-bit (bf16 or f16, as `bf16` says). Every function
// enqueues on `stream` and returns.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace bricks::cuda::ops {

// x[i][0..d) = table[ids[i]] (16-bit rows) for i < n.
void embed(const void* table, bool bf16, const int32_t* ids, int64_t n, int64_t d, float* x,
           cudaStream_t stream);

// y[i] = x[i] / sqrt(mean(x[i]^2) + eps) * w, written as 16-bit, for n rows of d.
void rmsnorm(const float* x, const float* w, int64_t n, int64_t d, float eps, void* y, bool bf16,
             cudaStream_t stream);

// Rotary embedding on pairs (2j, 2j+1) of each head (the GGUF layout): row i of `src`
// (stride src_stride floats) holds `heads` heads of head_dim at its start; the rotated row
// goes to `dst` (stride dst_stride; dst == src rotates in place). Angle pos[i] *
// theta^(-2j / head_dim), in double as the cpu device computes it.
void rope(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, const int32_t* pos,
          int64_t n, int32_t heads, int32_t head_dim, float theta, cudaStream_t stream);

// Writes n tokens' K and V rows (kv_dim floats each, row stride `stride`) into the pools
// at slots[i] (slot = block * block_size + offset), as f16 or f32.
void write_kv(const float* k, const float* v, int64_t stride, const int32_t* slots, int64_t n,
              int64_t kv_dim, void* k_pool, void* v_pool, bool f16, cudaStream_t stream);

// out[i][j] = silu(gu[i][j]) * gu[i][f + j] for n rows (gu rows are 2f wide), 16-bit out.
void silu_mul(const float* gu, int64_t n, int64_t f, void* out, bool bf16, cudaStream_t stream);

// out = x as 16-bit, `count` values.
void to_16bit(const float* x, int64_t count, void* out, bool bf16, cudaStream_t stream);

// out[r] = x[rows[r]] for r < n, d floats each.
void gather_rows(const float* x, const int32_t* rows, int64_t n, int64_t d, float* out,
                 cudaStream_t stream);

// Status of the last launch, for the caller's check.
cudaError_t last_error();

}  // namespace bricks::cuda::ops
