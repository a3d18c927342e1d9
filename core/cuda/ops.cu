#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda/ops.h"

namespace bricks::cuda::ops {
namespace {

template <class T>
__device__ T from_f32(float x);
template <>
__device__ __half from_f32<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

__device__ float to_f32(__half x) { return __half2float(x); }
__device__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }

unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

template <class T>
__global__ void embed_kernel(const T* table, const int32_t* ids, int64_t d, float* x) {
  const int64_t row = blockIdx.x;
  const T* src = table + static_cast<int64_t>(ids[row]) * d;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) x[row * d + j] = to_f32(src[j]);
}

template <class T>
__global__ void rmsnorm_kernel(const float* x, const float* w, int64_t d, float eps, T* y) {
  __shared__ float partial[32];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * d;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) s = fmaf(xr[j], xr[j], s);
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    const int warps = static_cast<int>(blockDim.x / 32);
    float t = static_cast<int>(threadIdx.x) < warps ? partial[threadIdx.x] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(0xffffffffu, t, o);
    if (threadIdx.x == 0) partial[0] = t;
  }
  __syncthreads();
  const float scale = rsqrtf(partial[0] / static_cast<float>(d) + eps);
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    y[row * d + j] = from_f32<T>(xr[j] * scale * w[j]);
  }
}

__global__ void rope_kernel(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                            const int32_t* pos, int32_t heads, int32_t head_dim, float theta) {
  const int64_t row = blockIdx.x;
  const int32_t half = head_dim / 2;
  const double p = pos[row];
  for (int32_t i = threadIdx.x; i < heads * half; i += blockDim.x) {
    const int32_t h = i / half;
    const int32_t j = i % half;
    const double a = p * pow(static_cast<double>(theta), -2.0 * j / head_dim);
    double sn, cs;
    sincos(a, &sn, &cs);
    const float c = static_cast<float>(cs), s = static_cast<float>(sn);
    const float* in = src + row * src_stride + static_cast<int64_t>(h) * head_dim + 2 * j;
    float* out = dst + row * dst_stride + static_cast<int64_t>(h) * head_dim + 2 * j;
    const float x0 = in[0], x1 = in[1];
    out[0] = x0 * c - x1 * s;
    out[1] = x0 * s + x1 * c;
  }
}

template <class T>
__global__ void write_kv_kernel(const float* k, const float* v, int64_t stride,
                                const int32_t* slots, int64_t kv_dim, T* k_pool, T* v_pool) {
  const int64_t row = blockIdx.x;
  const int64_t at = static_cast<int64_t>(slots[row]) * kv_dim;
  for (int64_t j = threadIdx.x; j < kv_dim; j += blockDim.x) {
    if constexpr (sizeof(T) == 4) {
      k_pool[at + j] = k[row * stride + j];
      v_pool[at + j] = v[row * stride + j];
    } else {
      k_pool[at + j] = from_f32<T>(k[row * stride + j]);
      v_pool[at + j] = from_f32<T>(v[row * stride + j]);
    }
  }
}

template <class T>
__global__ void silu_mul_kernel(const float* gu, int64_t n, int64_t f, T* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * f) return;
  const int64_t row = i / f, j = i % f;
  const float g = gu[row * 2 * f + j];
  out[i] = from_f32<T>(g / (1.0f + __expf(-g)) * gu[row * 2 * f + f + j]);
}

template <class T>
__global__ void to_16bit_kernel(const float* x, int64_t count, T* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = from_f32<T>(x[i]);
}

__global__ void gather_kernel(const float* x, const int32_t* rows, int64_t d, float* out) {
  const int64_t r = blockIdx.x;
  const float* src = x + static_cast<int64_t>(rows[r]) * d;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) out[r * d + j] = src[j];
}

}  // namespace

void embed(const void* table, bool bf16, const int32_t* ids, int64_t n, int64_t d, float* x,
           cudaStream_t stream) {
  if (n == 0) return;
  if (bf16) {
    embed_kernel<<<n, 256, 0, stream>>>(static_cast<const __nv_bfloat16*>(table), ids, d, x);
  } else {
    embed_kernel<<<n, 256, 0, stream>>>(static_cast<const __half*>(table), ids, d, x);
  }
}

void rmsnorm(const float* x, const float* w, int64_t n, int64_t d, float eps, void* y, bool bf16,
             cudaStream_t stream) {
  if (n == 0) return;
  if (bf16) {
    rmsnorm_kernel<<<n, 256, 0, stream>>>(x, w, d, eps, static_cast<__nv_bfloat16*>(y));
  } else {
    rmsnorm_kernel<<<n, 256, 0, stream>>>(x, w, d, eps, static_cast<__half*>(y));
  }
}

void rope(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, const int32_t* pos,
          int64_t n, int32_t heads, int32_t head_dim, float theta, cudaStream_t stream) {
  if (n == 0) return;
  rope_kernel<<<n, 128, 0, stream>>>(src, src_stride, dst, dst_stride, pos, heads, head_dim, theta);
}

void write_kv(const float* k, const float* v, int64_t stride, const int32_t* slots, int64_t n,
              int64_t kv_dim, void* k_pool, void* v_pool, bool f16, cudaStream_t stream) {
  if (n == 0) return;
  if (f16) {
    write_kv_kernel<<<n, 256, 0, stream>>>(
        k, v, stride, slots, kv_dim, static_cast<__half*>(k_pool), static_cast<__half*>(v_pool));
  } else {
    write_kv_kernel<<<n, 256, 0, stream>>>(k, v, stride, slots, kv_dim, static_cast<float*>(k_pool),
                                           static_cast<float*>(v_pool));
  }
}

void silu_mul(const float* gu, int64_t n, int64_t f, void* out, bool bf16, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = blocks_for(n * f, 256);
  if (bf16) {
    silu_mul_kernel<<<blocks, 256, 0, stream>>>(gu, n, f, static_cast<__nv_bfloat16*>(out));
  } else {
    silu_mul_kernel<<<blocks, 256, 0, stream>>>(gu, n, f, static_cast<__half*>(out));
  }
}

void to_16bit(const float* x, int64_t count, void* out, bool bf16, cudaStream_t stream) {
  if (count == 0) return;
  const unsigned blocks = blocks_for(count, 256);
  if (bf16) {
    to_16bit_kernel<<<blocks, 256, 0, stream>>>(x, count, static_cast<__nv_bfloat16*>(out));
  } else {
    to_16bit_kernel<<<blocks, 256, 0, stream>>>(x, count, static_cast<__half*>(out));
  }
}

void gather_rows(const float* x, const int32_t* rows, int64_t n, int64_t d, float* out,
                 cudaStream_t stream) {
  if (n == 0) return;
  gather_kernel<<<n, 256, 0, stream>>>(x, rows, d, out);
}

cudaError_t last_error() { return cudaGetLastError(); }

}  // namespace bricks::cuda::ops
