#include "cuda/cuda_forward.h"

#include <cmath>
#include <cstring>
#include <string>

#include "cuda/cublas_api.h"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace bricks::cuda {

CudaForward::CudaForward(const CudaWeights& weights, const engine::AttentionCalls& attention,
                         cudaStream_t stream)
    : w_(weights), attention_(attention), stream_(stream) {
  check(cublas().create(&blas_), "creating the cuBLAS handle");
  check(cublas().set_stream(blas_, stream_), "setting the cuBLAS stream");
}

CudaForward::~CudaForward() {
  if (blas_ != nullptr) cublas().destroy(blas_);
}

void CudaForward::set_pools(std::vector<void*> k, std::vector<void*> v, bool f16) {
  k_pools_ = std::move(k);
  v_pools_ = std::move(v);
  kv_f16_ = f16;
}

void CudaForward::gemm(const uint16_t* w, int64_t n, int64_t k, const void* x16, int64_t m,
                       float* y, float beta) {
  const float alpha = 1.0f;
  const cudaDataType t = w_.bf16 ? CUDA_R_16BF : CUDA_R_16F;
  // Row-major y[m][n] is column-major n x m: y = op(W) x with W's rows as columns.
  check(cublas().gemm_ex(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                         static_cast<int>(k), &alpha, w, t, static_cast<int>(k), x16, t,
                         static_cast<int>(k), &beta, y, CUDA_R_32F, static_cast<int>(n),
                         CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "a matrix product of " + std::to_string(m) + " x " + std::to_string(k) + " by " +
            std::to_string(k) + " x " + std::to_string(n));
}

void CudaForward::reserve(int64_t T, int64_t R) {
  const model::LlamaConfig& c = w_.config;
  const int64_t d = c.hidden;
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  const auto n = [](int64_t a, int64_t b) { return static_cast<size_t>(a * b); };
  x_.reserve(n(T, d), "activations");
  qkv_.reserve(n(T, q_dim + 2 * kv_dim), "q, k and v");
  q_.reserve(n(T, q_dim), "queries");
  attn_.reserve(n(T, q_dim), "attention outputs");
  gu_.reserve(n(T, 2 * c.ffn), "FFN activations");
  h16_.reserve(n(T, std::max({d, q_dim, int64_t{c.ffn}})), "16-bit activations");
  rows_.reserve(n(R, d), "sampled rows");
  logits_.reserve(n(R, c.vocab_size), "logits");
  logits_host_.reserve(n(R, c.vocab_size) * sizeof(float), "logits");
  inputs_.reserve(static_cast<size_t>(3 * T + R), "step inputs");
  staging_.reserve(static_cast<size_t>(3 * T + R) * sizeof(int32_t), "step inputs");
}

void CudaForward::run(const engine::ForwardBatch& batch,
                      const std::function<void(int32_t)>& before_layer,
                      std::vector<float>& logits) {
  const model::LlamaConfig& c = w_.config;
  const int64_t T = batch.num_tokens();
  const int64_t R = static_cast<int64_t>(batch.logit_rows.size());
  const int64_t d = c.hidden;
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  const int64_t qkv_dim = q_dim + 2 * kv_dim;
  const int64_t f = c.ffn;
  const bool bf16 = w_.bf16;
  logits.assign(static_cast<size_t>(R * c.vocab_size), 0.0f);
  if (T == 0) return;
  reserve(T, R);

  // The step's integers in one copy: ids, positions, slots, logit rows.
  auto* staged = reinterpret_cast<int32_t*>(staging_.get());
  std::memcpy(staged, batch.token_ids.data(), static_cast<size_t>(T) * 4);
  std::memcpy(staged + T, batch.positions.data(), static_cast<size_t>(T) * 4);
  std::memcpy(staged + 2 * T, batch.slots.data(), static_cast<size_t>(T) * 4);
  std::memcpy(staged + 3 * T, batch.logit_rows.data(), static_cast<size_t>(R) * 4);
  check(cudaMemcpyAsync(inputs_.get(), staged, static_cast<size_t>(3 * T + R) * 4,
                        cudaMemcpyHostToDevice, stream_),
        "copying the step's inputs");
  const int32_t* ids = inputs_.get();
  const int32_t* pos = ids + T;
  const int32_t* slots = ids + 2 * T;
  const int32_t* logit_rows = ids + 3 * T;

  float* x = x_.get();
  void* h16 = h16_.get();
  ops::embed(w_.embed.get(), bf16, ids, T, d, x, stream_);
  for (int32_t l = 0; l < c.n_layers; ++l) {
    const CudaLayer& L = w_.layers[static_cast<size_t>(l)];
    ops::rmsnorm(x, L.attn_norm.get(), T, d, c.rms_eps, h16, bf16, stream_);
    gemm(L.qkv.get(), qkv_dim, d, h16, T, qkv_.get(), 0.0f);
    float* k = qkv_.get() + q_dim;
    ops::rope(qkv_.get(), qkv_dim, q_.get(), q_dim, pos, T, c.n_heads, c.head_dim, c.rope_theta,
              stream_);
    ops::rope(k, qkv_dim, k, qkv_dim, pos, T, c.n_kv_heads, c.head_dim, c.rope_theta, stream_);
    if (before_layer) before_layer(l);
    ops::write_kv(k, k + kv_dim, qkv_dim, slots, T, kv_dim, k_pools_[static_cast<size_t>(l)],
                  v_pools_[static_cast<size_t>(l)], kv_f16_, stream_);
    check(ops::last_error(), "layer " + std::to_string(l) + " before attention");

    bricks_attention_io io{};
    io.struct_size = sizeof(io);
    io.q = q_.get();
    io.k_pool = k_pools_[static_cast<size_t>(l)];
    io.v_pool = v_pools_[static_cast<size_t>(l)];
    io.out = attn_.get();
    io.stream = stream_;
    attention_.run(io);

    ops::to_16bit(attn_.get(), T * q_dim, h16, bf16, stream_);
    gemm(L.o.get(), d, q_dim, h16, T, x, 1.0f);  // x += o
    ops::rmsnorm(x, L.ffn_norm.get(), T, d, c.rms_eps, h16, bf16, stream_);
    gemm(L.gate_up.get(), 2 * f, d, h16, T, gu_.get(), 0.0f);
    ops::silu_mul(gu_.get(), T, f, h16, bf16, stream_);
    gemm(L.down.get(), d, f, h16, T, x, 1.0f);  // x += down
    check(ops::last_error(), "layer " + std::to_string(l));
  }
  if (R == 0) {
    check(cudaStreamSynchronize(stream_), "the step's kernels");  // staging_ is reused
    return;
  }
  ops::gather_rows(x, logit_rows, R, d, rows_.get(), stream_);
  ops::rmsnorm(rows_.get(), w_.output_norm.get(), R, d, c.rms_eps, h16, bf16, stream_);
  gemm(w_.lm_head(), c.vocab_size, d, h16, R, logits_.get(), 0.0f);
  const size_t bytes = static_cast<size_t>(R * c.vocab_size) * sizeof(float);
  check(cudaMemcpyAsync(logits_host_.get(), logits_.get(), bytes, cudaMemcpyDeviceToHost, stream_),
        "copying the logits");
  check(cudaStreamSynchronize(stream_), "the step's kernels");
  std::memcpy(logits.data(), logits_host_.get(), bytes);
}

}  // namespace bricks::cuda
