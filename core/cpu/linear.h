// A linear layer y = x W^T over a weight matrix in its stored type (f32, f16, bf16 or a
// ggml block type: q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K).
//
// Built once at load; forward() takes any number of activation rows m:
//   m < gemm_min_m: own SIMD "GEMV" kernels (AVX-512, AVX2 or portable, chosen at
//     construction from active_isa()) stream each weight row once for all m rows; this is
//     the bandwidth-bound decode path. Block types run integer dot products (quant_dot.h):
//     the activations are quantized to 8 bits per block of 32 once per forward, in either
//     compute mode, so the results differ from the float product by that rounding.
//     f32, f16 and bf16 weights run register tiles from 32 rows instead (gemm_tiles_avx512,
//     gemm_tiles_avx2: converted weight panels, outer products), and in f32 compute f16/bf16
//     weights then go to oneDNN from 513 (f16) or 512 (bf16) rows on AVX2 and never on AVX-512. On
//     AVX2 they run weights broadcast against transposed activations from 16 (f16: 24) to 31 rows
//     (gemv_bcast_avx2). bf16 and f16 weights in bf16 compute on AVX512_BF16 run vdpbf16ps on bf16
//     activations from 2 rows (gemv_bf16dp_avx512; f16 weights rounded to bf16 in registers, as the
//     bf16 matmul's converted panels are).
//   m >= gemm_min_m: a oneDNN matmul (AMX/AVX-512 bf16 tiles in Compute::BF16 where the CPU
//     has them, f32 otherwise). Weights that oneDNN cannot read directly are converted
//     panel by panel into a per-thread buffer; the weight view is never copied whole.
// describe() names the paths and their thresholds.
//
// Thread safety: const methods may run concurrently from several threads. Each forward()
// uses num_threads() TBB/OpenMP workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cpu/cpu_features.h"
#include "cpu/weights.h"

namespace bricks::cpu {

namespace detail {
struct GemvArgs;
struct QuantGemvArgs;
struct QuantizedActivations;
enum class QuantIsa;
}  // namespace detail

struct LinearOptions {
  // Smallest m that goes to the oneDNN matmul; 0 picks the measured default for the
  // compute mode and CPU, a negative value never uses oneDNN.
  int64_t gemm_min_m = 0;
};

class Linear {
 public:
  enum class Path { Gemv, GemmF32, GemmBF16 };

  // Throws bricks::Error on a bad view (see check_view). `w.data` must outlive the Linear.
  Linear(const WeightView& w, Compute compute, const LinearOptions& options = {});

  // x: [m][cols()] f32, y: [m][rows()] f32 (must not overlap x). m == 0 does nothing;
  // m < 0 throws bricks::Error.
  void forward(const float* x, int64_t m, float* y) const;

  // lins[i]->forward(x, m, ys[i]) for every i, the layers reading the same input (a layer's
  // q, k and v, or its gate and up). Where all of them take the integer GEMV path in one
  // pass, the activations are quantized once and all their rows share one parallel region,
  // split by weight bytes; otherwise each forward runs in turn. Throws bricks::Error when the
  // spans differ in length or the layers in cols().
  static void forward_same_input(std::span<const Linear* const> lins, const float* x, int64_t m,
                                 std::span<float* const> ys);

  int64_t rows() const { return w_.rows; }
  int64_t cols() const { return w_.cols; }
  size_t weight_bytes() const { return row_bytes(w_.type, w_.cols) * w_.rows; }
  WeightType weight_type() const { return w_.type; }
  Compute compute() const { return compute_; }
  Isa isa() const { return isa_; }

  // The path forward() takes for m rows.
  Path path_for(int64_t m) const;
  std::string describe() const;

 private:
  void gemv(const float* x, int64_t m, float* y) const;
  void gemm(const float* x, int64_t m, float* y) const;
  void quant_gemv(const float* x, int64_t m, float* y) const;
  // Activation rows per pass of quant_gemv for m rows of `padded` quantized values.
  static int64_t quant_pass_rows(int64_t m, int64_t padded);
  // quant_kernel_'s arguments for the activation rows i0 .. i0 + m of qx, y at row i0's output.
  detail::QuantGemvArgs quant_args(const detail::QuantizedActivations& qx, int64_t i0, int64_t m,
                                   float* y) const;
  // Runs body(n0, n1) over the output rows in blocks of 16, on the TBB workers unless the
  // product of m rows is too small to share.
  template <class Body>
  void over_row_blocks(int64_t m, const Body& body) const;
  // Whether m rows on the GEMV path take the bf16 dot products (dp_kernel_).
  bool dp_rows(int64_t m) const;

  WeightView w_;
  Compute compute_;
  Isa isa_;
  void (*kernel_)(const detail::GemvArgs&, int64_t, int64_t) = nullptr;
  // f32/f16/bf16 on AVX-512 and AVX2: the register-tiled kernel for many rows (null otherwise).
  void (*tiles_kernel_)(const detail::GemvArgs&, int64_t, int64_t) = nullptr;
  // f32/f16/bf16 on AVX2: weights broadcast against transposed activations, from bcast_min_m rows
  // up to the tiles (null otherwise).
  void (*bcast_kernel_)(const detail::GemvArgs&, int64_t, int64_t) = nullptr;
  // bf16 or f16 weights in bf16 compute on AVX512_BF16: vdpbf16ps on bf16 activations (null
  // otherwise); from kDpMinM rows it takes the GEMV path in place of kernel_ and tiles_kernel_.
  void (*dp_kernel_)(const detail::GemvArgs&, int64_t, int64_t) = nullptr;
  // Block types: the integer kernel (kernel_ is then unused).
  void (*quant_kernel_)(const detail::QuantGemvArgs&, int64_t, int64_t) = nullptr;
  detail::QuantIsa quant_isa_{};
  bool quant_q8k_ = false;   // the kernel reads the activations' super-block form too
  int64_t gemm_min_m_ = -1;  // < 0: no oneDNN path
  Path gemm_path_ = Path::Gemv;
  std::string gemm_impl_;
};

const char* to_string(Linear::Path p);

}  // namespace bricks::cpu
