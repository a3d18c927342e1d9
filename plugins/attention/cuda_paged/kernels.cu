// Paged attention over a mixed batch of decode rows and prefill chunks.
//
// One thread block per work item (launch_plan.h): 4 warps, each owning up to 4 of the
// item's query vectors. The block walks the item's keys 32 at a time: it stages the 32 keys'
// K and V rows in shared memory (gathered through the page table, converted to f32), then
// every warp scores its vectors against them, one key per lane, and folds the chunk into
// its running softmax (max, sum, and the weighted sum of V with each lane owning
// head_dim / 32 of the output's dimensions). Split items write (o, log-sum-exp) partials,
// which a second kernel merges.
#include <cuda_fp16.h>

#include <cmath>

#include "kernels.h"

namespace bricks_cuda_paged {
namespace {

constexpr int kWarps = 4;
constexpr int kVectorsPerWarp = kTileVectors / kWarps;
constexpr int kChunk = 32;
constexpr int kDimsPerLane = kMaxHeadDim / 32;
constexpr unsigned kFull = 0xffffffffu;

__device__ float warp_max(float x) {
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(kFull, x, o));
  return x;
}

__device__ float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(kFull, x, o);
  return x;
}

// Rows of shared K and V are padded by one float, so the 32 lanes reading one dimension of
// 32 different keys hit 32 different banks.
__device__ int row_stride(int head_dim) { return head_dim + 1; }

__device__ void stage_chunk(const KernelArgs& a, const SeqInfo& s, const Item& it, int k0,
                            float* ks, float* vs) {
  const int hd = a.head_dim;
  const int stride = row_stride(hd);
  for (int i = threadIdx.x; i < kChunk * hd; i += blockDim.x) {
    const int j = i / hd;
    const int d = i - j * hd;
    const int key = k0 + j;
    float kv = 0.0f, vv = 0.0f;
    if (key < it.key_end) {
      const int page = a.indices[s.page0 + key / a.page_size];
      const long long slot = static_cast<long long>(page) * a.page_size + key % a.page_size;
      const long long at = (slot * a.num_kv_heads + it.kv_head) * hd + d;
      if (a.f16) {
        kv = __half2float(static_cast<const __half*>(a.k_pool)[at]);
        vv = __half2float(static_cast<const __half*>(a.v_pool)[at]);
      } else {
        kv = static_cast<const float*>(a.k_pool)[at];
        vv = static_cast<const float*>(a.v_pool)[at];
      }
    }
    ks[j * stride + d] = kv;
    vs[j * stride + d] = vv;
  }
}

__global__ void attend_kernel(KernelArgs a) {
  extern __shared__ float smem[];
  const Item it = a.items[blockIdx.x];
  const SeqInfo s = a.seqs[it.seq];
  const int hd = a.head_dim;
  const int stride = row_stride(hd);
  float* qs = smem;                    // [kTileVectors][hd], scaled by sm_scale
  float* ks = qs + kTileVectors * hd;  // [kChunk][stride]
  float* vs = ks + kChunk * stride;    // [kChunk][stride]
  const int nv = it.vec_end - it.vec_begin;
  for (int i = threadIdx.x; i < nv * hd; i += blockDim.x) {
    const int v = it.vec_begin + i / hd;
    const int d = i % hd;
    const int row = v / a.group;
    const int head = it.kv_head * a.group + v % a.group;
    qs[i] =
        a.q[(static_cast<long long>(s.row0 + row) * a.num_qo_heads + head) * hd + d] * a.sm_scale;
  }
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  float m[kVectorsPerWarp], l[kVectorsPerWarp], acc[kVectorsPerWarp][kDimsPerLane];
  int limit[kVectorsPerWarp];
#pragma unroll
  for (int w = 0; w < kVectorsPerWarp; ++w) {
    m[w] = -INFINITY;
    l[w] = 0.0f;
#pragma unroll
    for (int e = 0; e < kDimsPerLane; ++e) acc[w][e] = 0.0f;
    const int v = warp + w * kWarps;
    const int row = (it.vec_begin + v) / a.group;
    const int visible = a.causal ? s.kv_len - s.qo_len + row + 1 : s.kv_len;
    limit[w] = min(visible, it.key_end);
  }

  for (int k0 = it.key_begin; k0 < it.key_end; k0 += kChunk) {
    __syncthreads();  // the last chunk is read by every warp
    stage_chunk(a, s, it, k0, ks, vs);
    __syncthreads();
#pragma unroll
    for (int w = 0; w < kVectorsPerWarp; ++w) {
      const int v = warp + w * kWarps;
      if (v >= nv) break;  // the same for every lane of the warp
      const int key = k0 + lane;
      const bool seen = key < limit[w];
      float score = -INFINITY;
      if (seen) {
        const float* qv = qs + v * hd;
        const float* kr = ks + lane * stride;
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot = fmaf(qv[d], kr[d], dot);
        score = dot;
      }
      const float top = fmaxf(m[w], warp_max(score));
      if (top == -INFINITY) continue;  // no key of this vector in the chunk yet
      const float rescale = __expf(m[w] - top);
      const float p = seen ? __expf(score - top) : 0.0f;
      l[w] = l[w] * rescale + warp_sum(p);
#pragma unroll
      for (int e = 0; e < kDimsPerLane; ++e) acc[w][e] *= rescale;
      for (int j = 0; j < kChunk; ++j) {
        const float pj = __shfl_sync(kFull, p, j);
        const float* vr = vs + j * stride;
#pragma unroll
        for (int e = 0; e < kDimsPerLane; ++e) {
          const int d = lane + 32 * e;
          if (d < hd) acc[w][e] = fmaf(pj, vr[d], acc[w][e]);
        }
      }
      m[w] = top;
    }
  }

#pragma unroll
  for (int w = 0; w < kVectorsPerWarp; ++w) {
    const int v = warp + w * kWarps;
    if (v >= nv) break;
    const float inv = l[w] > 0.0f ? 1.0f / l[w] : 0.0f;
    const float lse = l[w] > 0.0f ? m[w] + logf(l[w]) : -INFINITY;
    float* o;
    if (it.partial < 0) {
      const int gv = it.vec_begin + v;
      const int row = gv / a.group;
      const int head = it.kv_head * a.group + gv % a.group;
      o = a.out + (static_cast<long long>(s.row0 + row) * a.num_qo_heads + head) * hd;
    } else {
      o = a.partial_o + static_cast<long long>(it.partial + v) * hd;
      if (lane == 0) a.partial_lse[it.partial + v] = lse;
    }
#pragma unroll
    for (int e = 0; e < kDimsPerLane; ++e) {
      const int d = lane + 32 * e;
      if (d < hd) o[d] = acc[w][e] * inv;
    }
  }
}

// One block per merge: out = sum_c exp(lse_c - lse) o_c, the softmax over all keys rebuilt
// from the softmaxes over each piece.
__global__ void merge_kernel(KernelArgs a) {
  const Merge mg = a.merges[blockIdx.x];
  const SeqInfo s = a.seqs[mg.seq];
  const int hd = a.head_dim;
  const int nv = mg.vec_end - mg.vec_begin;
  for (int i = threadIdx.x; i < nv * hd; i += blockDim.x) {
    const int v = i / hd;
    const int d = i % hd;
    float top = -INFINITY;
    for (int c = 0; c < mg.num_splits; ++c) {
      top = fmaxf(top, a.partial_lse[mg.first_partial + c * nv + v]);
    }
    float total = 0.0f, sum = 0.0f;
    if (top != -INFINITY) {
      for (int c = 0; c < mg.num_splits; ++c) {
        const int slot = mg.first_partial + c * nv + v;
        const float lse = a.partial_lse[slot];
        if (lse == -INFINITY) continue;
        const float w = __expf(lse - top);
        total += w;
        sum = fmaf(w, a.partial_o[static_cast<long long>(slot) * hd + d], sum);
      }
    }
    const int gv = mg.vec_begin + v;
    const int row = gv / a.group;
    const int head = mg.kv_head * a.group + gv % a.group;
    a.out[(static_cast<long long>(s.row0 + row) * a.num_qo_heads + head) * hd + d] =
        total > 0.0f ? sum / total : 0.0f;
  }
}

}  // namespace

cudaError_t launch_attention(const KernelArgs& args, int32_t num_items, int32_t num_merges,
                             cudaStream_t stream) {
  if (num_items == 0) return cudaSuccess;
  const size_t smem = sizeof(float) * (static_cast<size_t>(kTileVectors) * args.head_dim +
                                       2 * static_cast<size_t>(kChunk) * (args.head_dim + 1));
  if (smem > 48 * 1024) {
    const cudaError_t e = cudaFuncSetAttribute(
        attend_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (e != cudaSuccess) return e;
  }
  attend_kernel<<<num_items, kWarps * 32, smem, stream>>>(args);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess || num_merges == 0) return e;
  merge_kernel<<<num_merges, 128, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace bricks_cuda_paged
