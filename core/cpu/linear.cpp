#include "cpu/linear.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/convert.h"
#include "cpu/gemm_dnnl.h"
#include "cpu/gemv_kernels.h"
#include "cpu/quant_dot.h"
#include "cpu/scratch.h"
#include "cpu/threads.h"
#include "cpu/threads_internal.h"
#include "cpu/weight_lanes.h"

namespace bricks::cpu {
namespace {

// GEMV work is split over output rows in blocks of this many rows (a multiple of every
// kernel's row group).
constexpr int64_t kRowBlock = 16;

// Below this many multiply-adds a forward runs on the calling thread alone.
constexpr int64_t kSerialMacs = 1 << 16;

// Activation rows a GEMV pass keeps in L2.
constexpr int64_t kPassBytes = 512 << 10;
// From this many activation rows the GEMV path of f32/f16/bf16 weights runs the register-tiled
// kernel (gemm_tiles_avx512, gemm_tiles_avx2). AVX-512 EPYC, f16 5632x2048, 2 threads: the GEMV
// ran 222-228 / 176-178 / 198 GFLOP/s at 16 / 32 / 64 rows, the tiles 174-179 / 196-213 /
// 258-262. AVX2 EPYC (Zen 3): the GEMV 100 / 120-126 / 79 at 8 / 16 / 32 rows, the tiles 85 /
// 123-124 / 138-140.
constexpr int64_t kTilesMinM = 32;

// From this many activation rows up to kTilesMinM, f32/f16/bf16 weights on AVX2 run the
// broadcast kernel (gemv_bcast_avx2) in place of the row kernels. AVX2 EPYC (Zen 3), 5632x2048,
// 2 threads, broadcast against row kernels (4 weight rows by 2 activation rows), GFLOP/s, 3
// alternated rounds: at 16 rows f16 142 against 161 (Crossover) and 136 against 142 (Gemv,
// from memory), bf16 in bf16 compute 134 against 112 (Gemv), f32 130 against 115 (Crossover);
// at 24 rows f16 146 against 132, f32 139 against 106. Below 16 rows a group is padded to 16 and
// converting every weight to an f32 panel costs more than the row kernels' activation loads
// (GemvCached f16 at 2 rows: 22 against 79, one thread). f16 converts in one instruction, so
// its row kernels hold out longer; 17 to 23 rows were not measured.
int64_t bcast_min_m(WeightType t) { return t == WeightType::F16 ? 24 : 16; }

// From this many activation rows bf16 compute on bf16 or f16 weights runs the AVX512_BF16
// dot-product kernel. One row is bound by the weights' bandwidth, where the f32 kernel's loop
// (software prefetch, no reduction to fold) is faster: f16 file in bf16 compute, batch-1 decode on
// the AVX-512 EPYC, 24.5-28.7 tok/s against 23.1-26.4 for the dot products.
constexpr int64_t kDpMinM = 2;

// Rows per pass for m rows of which at most `fit` fit a pass: passes of equal size, so that
// no pass is left with a few rows (which would stream every weight again for little work,
// on the few-row kernels).
int64_t pass_rows(int64_t m, int64_t fit) {
  const int64_t passes = (m + fit - 1) / fit;
  return (m + passes - 1) / passes;
}

// Weight panels converted for oneDNN hold about this many bytes.
constexpr int64_t kPanelBytes = 4 << 20;

// Crossover from the GEMV kernels to oneDNN (tools/bench/bench_kernels, Crossover). On a
// 2-core AVX2 machine the GEMV kernels win up to m ~ 32-64 against f32 oneDNN on f32
// weights and up to m ~ 128 when oneDNN needs converted panels. With native bf16 tiles
// (AMX, AVX512_BF16) oneDNN runs several times faster than any f32 kernel from small m on
// (not measured here: the value for that case follows the oneDNN figures in DESIGN.md).
// On a 2-core AVX-512 Xeon, oneDNN's f32 matmul on converted f16 panels already runs 1.6-2x
// faster than the f16 GEMV at m = 128, and about as fast at m = 64 (Crossover, type 1).
// bf16 compute on the AVX-512 EPYC (AVX512_BF16; Crossover compute 1, 2 threads): on bf16
// weights oneDNN matches the GEMV at m = 16 (300 against 283 GFLOP/s) and wins from 32; on
// f16 weights, whose panels it converts first, it reaches 157-160 against the GEMV's 269-285
// at m = 16 and wins from 32 (268 against 207-235).
// With the AVX512_BF16 dot-product GEMV (gemv_bf16dp_avx512) on bf16 weights, oneDNN's bf16
// matmul wins from m = 64 only: 289-434 against 178-355 GFLOP/s at m = 8-16, 426 against
// 370 at 32, 435 against 500 at 64 (same EPYC, Crossover type 2 compute 1). On f16 weights,
// which the dot products convert in registers and oneDNN panel by panel, the GEMV wins up to
// m = 64: 398-419 against 261 at 32, 466-520 against 398 at 64, 491-512 against 543 at 128
// (Crossover type 1 compute 1).
// `tiles`: the Linear's register-tiled kernel (none, AVX2 or AVX-512); `dp_kernel`: whether it
// has the bf16 dot-product kernel.
int64_t default_gemm_min_m(Linear::Path path, WeightType type, Isa tiles, bool dp_kernel) {
  if (path == Linear::Path::GemmBF16) {
    if (dp_kernel) return type == WeightType::F16 ? 128 : 64;
    return type == WeightType::F16 ? 32 : 16;
  }
  if (type == WeightType::F32) return 64;
  // The AVX-512 register tiles beat oneDNN's f32 matmul on converted f16/bf16 panels at every
  // m measured: 250-270 GFLOP/s against 158-222 from 64 to 512 rows (AVX-512 EPYC, f16
  // 5632x2048, 2 threads). 0: never oneDNN. The AVX2 ones (AVX2 EPYC, Zen 3, the same shape
  // and threads, 3 runs) on f16: 158-165 / 160-174 / 131-137 GFLOP/s at 256 / 512 / 1024 rows,
  // oneDNN 146-156 / 154-160 / 153-166; on bf16 164-172 / 143-167 / 133-138, oneDNN 136-158 /
  // 155-160 / 166-170. (From 1024 rows a 256-column slice of the activations outgrows L2.) So
  // they serve f16 through 512 rows and bf16 up to 511; from 32 rows they beat the GEMV.
  // Without tiles (the block types without int8 kernels for many rows, the portable floor)
  // oneDNN takes over from 256.
  if (tiles == Isa::Avx512) return 0;
  if (tiles == Isa::Avx2) return type == WeightType::F16 ? 513 : 512;
  return 256;
}

// Runs body(j0, j1) over [0, count) in blocks of 16 rows on the OpenMP team that the
// oneDNN call right after uses: handing the cores from TBB workers to OpenMP workers on
// every panel leaves one pool spinning while the other works.
template <class Body>
void convert_panel(int64_t count, const Body& body) {
#if BRICKS_CPU_HAVE_OPENMP
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < count; j += 16) body(j, std::min(count, j + 16));
#else
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, count, 16),
                    [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
#endif
}

}  // namespace

const char* to_string(Linear::Path p) {
  switch (p) {
    case Linear::Path::Gemv:
      return "gemv";
    case Linear::Path::GemmF32:
      return "gemm-f32";
    case Linear::Path::GemmBF16:
      return "gemm-bf16";
  }
  return "?";
}

Linear::Linear(const WeightView& w, Compute compute, const LinearOptions& options)
    : w_(w), compute_(compute), isa_(active_isa()) {
  check_view(w, "Linear");
  if (w.layout == WeightLayout::Lanes) {
    if (!lanes_layout_fits(w.type, w.cols, compute)) {
      throw Error::invalid(std::string("Linear: ") + to_string(w.type) + " weights of " +
                           std::to_string(w.cols) + " columns in the lane layout, compute " +
                           to_string(compute) +
                           ": the lane layout takes f32 compute and q8_0 or q4_K rows of a "
                           "multiple of 512 values on an AVX512_VNNI CPU, or q4_K or q5_K rows "
                           "of a multiple of 512 or q6_K of 256 on an AVX2 one without "
                           "AVX-VNNI; pass the file's layout instead");
    }
    // The lane kernels serve every m; oneDNN would need the file's layout.
    quant_isa_ = detail::quant_isa_for(isa_);
    if (quant_isa_ == detail::QuantIsa::Avx512Vnni) {
      quant_kernel_ = detail::quant_lanes_avx512_vnni(w.type);
    } else {
      quant_kernel_ = detail::quant_lanes_avx2(w.type);
      quant_q8k_ = true;
    }
    return;
  }
  if (model::dtype_is_quantized(w.type)) {
    quant_isa_ = detail::quant_isa_for(isa_);
    quant_kernel_ = detail::quant_gemv_kernel(quant_isa_, w.type);
    quant_q8k_ = detail::quant_uses_q8k(quant_isa_, w.type);
  } else {
    kernel_ = detail::gemv_kernel(isa_, w.type);
    if (isa_ == Isa::Avx512) tiles_kernel_ = detail::gemm_tiles_avx512(w.type);
    if (isa_ == Isa::Avx2) {
      tiles_kernel_ = detail::gemm_tiles_avx2(w.type);
      bcast_kernel_ = detail::gemv_bcast_avx2(w.type);
    }
    if (isa_ == Isa::Avx512 && compute == Compute::BF16 && cpu_features().avx512bf16) {
      dp_kernel_ = detail::gemv_bf16dp_avx512(w.type);
    }
  }
  if (options.gemm_min_m < 0 || !detail::dnnl_built()) return;
  // In f32 compute, the AVX512_VNNI int8 kernels for many rows (q8_0, q4_0 and the k-quants)
  // outrun oneDNN's f32 matmul on converted panels at every m (bench_kernels Crossover): on
  // an AVX-512 EPYC, 250-340 GFLOP/s against 190-210 at m = 256 and 512; on an AVX-512 Xeon,
  // q4_K ran 130-180 at m = 16 against oneDNN's 92-106 at m = 256-512. Those types stay on
  // their own kernels unless gemm_min_m is given. So do the k-quants of the plain AVX2
  // family, on activations in super-blocks: on an AVX2 EPYC (Zen 3), q4_K 5632x2048 at 2
  // threads ran 111-206 GFLOP/s from m = 64 to 512 against oneDNN's 70-145, and a 512-token
  // prompt of the q4_k_m file took 6.1-7.4 s against 9.1-10.4 s with oneDNN from 256 rows.
  // And q8_0 on that family's transposed panels: 217-223 GFLOP/s from m = 64 to 512 against
  // oneDNN's 118-157 (Crossover, 2 threads).
  const bool int8_rows = (quant_isa_ == detail::QuantIsa::Avx512Vnni &&
                          (detail::quant_rows_avx512_vnni(w.type) != nullptr ||
                           detail::quant_rows_q8_avx512_vnni(w.type) != nullptr)) ||
                         (quant_isa_ == detail::QuantIsa::Avx2 && w.type == WeightType::Q8_0);
  if (options.gemm_min_m == 0 && compute == Compute::F32 && (int8_rows || quant_q8k_)) return;
  const int64_t panel = std::min<int64_t>(w.rows, 512);
  if (compute == Compute::BF16) {
    gemm_impl_ = detail::dnnl_impl(true, 64, w.cols, panel);
    if (!gemm_impl_.empty()) gemm_path_ = Path::GemmBF16;
  }
  if (gemm_path_ == Path::Gemv) {
    gemm_impl_ = detail::dnnl_impl(false, 64, w.cols, panel);
    if (!gemm_impl_.empty()) gemm_path_ = Path::GemmF32;
  }
  if (gemm_path_ == Path::Gemv) return;
  const Isa tiles = tiles_kernel_ != nullptr ? isa_ : Isa::Scalar;
  gemm_min_m_ = options.gemm_min_m > 0
                    ? options.gemm_min_m
                    : default_gemm_min_m(gemm_path_, w.type, tiles, dp_kernel_ != nullptr);
}

Linear::Path Linear::path_for(int64_t m) const {
  return (gemm_min_m_ > 0 && m >= gemm_min_m_) ? gemm_path_ : Path::Gemv;
}

std::string Linear::describe() const {
  std::string s = "linear " + std::to_string(w_.rows) + "x" + std::to_string(w_.cols) + " " +
                  to_string(w_.type) + ", compute " + to_string(compute_) + ": gemv ";
  if (quant_kernel_ != nullptr) {
    s += std::string(to_string(w_.type)) + " x q8 int8 dot " + detail::to_string(quant_isa_);
    if (quant_q8k_) s += " (activations in 256-value blocks)";
    if (w_.layout == WeightLayout::Lanes) s += " on weights repacked to the lane layout";
  } else if (dp_kernel_ != nullptr) {
    s += "avx512 (activations rounded to bf16) for m = 1, bf16 dot products (vdpbf16ps";
    if (w_.type != WeightType::BF16) s += ", weights rounded to bf16";
    s += ") from m = " + std::to_string(kDpMinM);
  } else {
    s += to_string(isa_);
    if (bcast_kernel_ != nullptr) {
      s += " (weights broadcast against transposed activations from m = " +
           std::to_string(bcast_min_m(w_.type)) + ")";
    }
    if (tiles_kernel_ != nullptr)
      s += " (register tiles from m = " + std::to_string(kTilesMinM) + ")";
    if (compute_ == Compute::BF16 && gemm_path_ != Path::GemmBF16) {
      s += " (activations rounded to bf16)";
    }
  }
  if (gemm_min_m_ > 0) {
    s += " for m < " + std::to_string(gemm_min_m_) + ", onednn " +
         (gemm_path_ == Path::GemmBF16 ? "bf16" : "f32") + " matmul (" + gemm_impl_ +
         ") for m >= " + std::to_string(gemm_min_m_);
    const bool direct = (gemm_path_ == Path::GemmBF16 && w_.type == WeightType::BF16) ||
                        (gemm_path_ == Path::GemmF32 && w_.type == WeightType::F32);
    if (!direct) s += ", weights converted per panel";
  } else {
    s += " for every m";
  }
  return s;
}

void Linear::forward(const float* x, int64_t m, float* y) const {
  if (m < 0) throw Error::invalid("Linear::forward: m = " + std::to_string(m) + " is negative");
  if (m == 0) return;
  if (path_for(m) == Path::Gemv) {
    if (quant_kernel_ != nullptr) {
      quant_gemv(x, m, y);
    } else if (compute_ == Compute::BF16 && !dp_rows(m)) {
      thread_local std::vector<float> rounded;
      float* xr = scratch(rounded, static_cast<size_t>(m * w_.cols));
      round_to_bf16(x, xr, m * w_.cols);
      gemv(xr, m, y);
    } else {
      gemv(x, m, y);
    }
  } else {
    gemm(x, m, y);
  }
}

template <class Body>
void Linear::over_row_blocks(int64_t m, const Body& body) const {
  const int64_t rows = w_.rows;
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  if (m * rows * w_.cols < kSerialMacs || blocks < 2 || num_threads() == 1) {
    body(0, rows);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, blocks),
      [&](const tbb::blocked_range<int64_t>& r) {
        body(r.begin() * kRowBlock, std::min(rows, r.end() * kRowBlock));
      },
      tbb::static_partitioner());
}

bool Linear::dp_rows(int64_t m) const { return dp_kernel_ != nullptr && m >= kDpMinM; }

void Linear::gemv(const float* x, int64_t m, float* y) const {
  // The bf16 dot products read the activations as bf16, rounded here once for all passes.
  const bool dp = dp_rows(m);
  const uint16_t* xb = nullptr;
  if (dp) {
    thread_local std::vector<uint16_t> halves;
    uint16_t* h = scratch(halves, static_cast<size_t>(m * w_.cols));
    f32_to_bf16(x, h, m * w_.cols);
    xb = h;
  }
  // Activation rows per pass: they stay in L2 while the weights stream past them once.
  // The tiles take every row in one pass: each weight panel they convert then serves them all.
  const bool tiles = !dp && tiles_kernel_ != nullptr && m >= kTilesMinM;
  const bool bcast = !dp && !tiles && bcast_kernel_ != nullptr && m >= bcast_min_m(w_.type);
  const int64_t value_bytes = dp ? 2 : 4;
  const int64_t chunk =
      tiles || bcast
          ? m
          : pass_rows(m, std::max<int64_t>(4, kPassBytes / (value_bytes * w_.cols) / 4 * 4));
  const auto kernel = dp ? dp_kernel_ : tiles ? tiles_kernel_ : bcast ? bcast_kernel_ : kernel_;
  for (int64_t i0 = 0; i0 < m; i0 += chunk) {
    detail::GemvArgs a;
    a.w = static_cast<const char*>(w_.data);
    a.row_bytes = row_bytes(w_.type, w_.cols);
    a.cols = w_.cols;
    // Each kernel reads one of the two: the dot products x_bf16, the others x.
    if (dp) {
      a.x_bf16 = xb + i0 * w_.cols;
    } else {
      a.x = x + i0 * w_.cols;
    }
    a.m = std::min(chunk, m - i0);
    a.y = y + i0 * w_.rows;
    a.ldy = w_.rows;
    over_row_blocks(m, [&](int64_t n0, int64_t n1) { kernel(a, n0, n1); });
  }
}

// Activation rows per pass, about 3 bytes a value quantized: they stay in L2 while every
// weight row is unpacked once per pass.
int64_t Linear::quant_pass_rows(int64_t m, int64_t padded) {
  return pass_rows(m, std::max<int64_t>(4, kPassBytes / (3 * padded) / 4 * 4));
}

detail::QuantGemvArgs Linear::quant_args(const detail::QuantizedActivations& qx, int64_t i0,
                                         int64_t m, float* y) const {
  detail::QuantGemvArgs a;
  a.w = static_cast<const char*>(w_.data);
  a.row_bytes = row_bytes(w_.type, w_.cols);
  a.cols = w_.cols;
  a.x = &qx;
  a.i0 = i0;
  a.m = m;
  a.y = y;
  a.ldy = w_.rows;
  // All rows' weights, then the scales (weight_lanes.h).
  if (w_.layout == WeightLayout::Lanes) {
    a.scales = a.w + w_.rows * lanes_row_weights(w_.type, w_.cols);
  }
  return a;
}

// As gemv(), with the activations quantized once for all row blocks and passes.
void Linear::quant_gemv(const float* x, int64_t m, float* y) const {
  thread_local detail::QuantizedActivations qx;
  detail::quantize_activations(
      x, m, w_.cols, qx,
      quant_q8k_ ? detail::ActivationForms::SuperBlocks : detail::ActivationForms::Blocks);
  const int64_t chunk = quant_pass_rows(m, qx.padded);
  const auto kernel = quant_kernel_;
  for (int64_t i0 = 0; i0 < m; i0 += chunk) {
    const detail::QuantGemvArgs a = quant_args(qx, i0, std::min(chunk, m - i0), y + i0 * w_.rows);
    over_row_blocks(m, [&](int64_t n0, int64_t n1) { kernel(a, n0, n1); });
  }
}

void Linear::forward_same_input(std::span<const Linear* const> lins, const float* x, int64_t m,
                                std::span<float* const> ys) {
  if (lins.size() != ys.size()) {
    throw Error::invalid("Linear::forward_same_input: " + std::to_string(lins.size()) +
                         " layers and " + std::to_string(ys.size()) + " outputs");
  }
  if (lins.empty() || m == 0) return;
  const int64_t cols = lins[0]->cols();
  bool shared = m > 0, super_blocks = false, blocks = false;
  for (const Linear* l : lins) {
    (l->quant_q8k_ ? super_blocks : blocks) = true;
    if (l->cols() != cols) {
      throw Error::invalid("Linear::forward_same_input: layers of " + std::to_string(cols) +
                           " and " + std::to_string(l->cols()) + " columns");
    }
    shared = shared && l->quant_kernel_ != nullptr && l->path_for(m) == Path::Gemv;
  }
  if (shared) shared = quant_pass_rows(m, detail::quant_padded(cols)) >= m;
  if (!shared) {
    for (size_t i = 0; i < lins.size(); ++i) lins[i]->forward(x, m, ys[i]);
    return;
  }
  // A lambda names a thread_local rather than capturing it: the workers take this thread's
  // activations through a pointer.
  thread_local detail::QuantizedActivations quantized;
  const auto forms = !super_blocks ? detail::ActivationForms::Blocks
                     : blocks      ? detail::ActivationForms::Both
                                   : detail::ActivationForms::SuperBlocks;
  detail::quantize_activations(x, m, cols, quantized, forms);
  const detail::QuantizedActivations* qx = &quantized;
  // Each layer's rows [0, rows) sit at bytes [start, start + rows * row_bytes) of one range
  // that the threads split evenly; a thread's share of a layer is rounded to kRowBlock rows at
  // the byte offset where it starts, by the same rule on both sides of every boundary.
  std::vector<int64_t> start(lins.size() + 1, 0);
  int64_t macs = 0;
  for (size_t i = 0; i < lins.size(); ++i) {
    start[i + 1] = start[i] + static_cast<int64_t>(lins[i]->weight_bytes());
    macs += m * lins[i]->rows() * cols;
  }
  auto row_at = [&](size_t i, int64_t byte) {
    const Linear& l = *lins[i];
    if (byte <= start[i]) return int64_t{0};
    if (byte >= start[i + 1]) return l.rows();
    const int64_t row = (byte - start[i]) / static_cast<int64_t>(row_bytes(l.w_.type, cols));
    return std::min(l.rows(), row / kRowBlock * kRowBlock);
  };
  auto run = [&](int64_t lo, int64_t hi) {
    for (size_t i = 0; i < lins.size(); ++i) {
      const int64_t n0 = row_at(i, lo), n1 = row_at(i, hi);
      if (n1 <= n0) continue;
      const Linear& l = *lins[i];
      l.quant_kernel_(l.quant_args(*qx, 0, m, ys[i]), n0, n1);
    }
  };
  const int64_t total = start.back();
  const int parts = num_threads();
  if (macs < kSerialMacs || parts == 1) return run(0, total);
  tbb::parallel_for(
      tbb::blocked_range<int>(0, parts, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int p = r.begin(); p < r.end(); ++p) run(total * p / parts, total * (p + 1) / parts);
      },
      tbb::static_partitioner());
}

void Linear::gemm(const float* x, int64_t m, float* y) const {
  const int64_t k = w_.cols, n = w_.rows;
  sync_openmp_threads();
  if (gemm_path_ == Path::GemmF32) {
    const float* xin = x;
    if (compute_ == Compute::BF16) {
      thread_local std::vector<float> rounded;
      float* xr = scratch(rounded, static_cast<size_t>(m * k));
      round_to_bf16(x, xr, m * k);
      xin = xr;
    }
    if (w_.type == WeightType::F32) {
      detail::dnnl_matmul_f32(xin, m, k, static_cast<const float*>(w_.data), n, y, n);
      return;
    }
    const int64_t panel = std::min(n, std::max<int64_t>(kPanelBytes / (4 * k) / 64 * 64, 64));
    thread_local std::vector<float> buf;
    float* p = scratch(buf, static_cast<size_t>(panel * k));
    for (int64_t n0 = 0; n0 < n; n0 += panel) {
      const int64_t c = std::min(panel, n - n0);
      convert_panel(c, [&](int64_t j0, int64_t j1) {
        for (int64_t j = j0; j < j1; ++j) dequantize_row(w_, n0 + j, p + j * k);
      });
      detail::dnnl_matmul_f32(xin, m, k, p, c, y + n0, n);
    }
    return;
  }
  thread_local std::vector<uint16_t> xbuf;
  uint16_t* xb = scratch(xbuf, static_cast<size_t>(m * k));
  f32_to_bf16(x, xb, m * k);
  if (w_.type == WeightType::BF16) {
    detail::dnnl_matmul_bf16(xb, m, k, static_cast<const uint16_t*>(w_.data), n, y, n);
    return;
  }
  const int64_t panel = std::min(n, std::max<int64_t>(kPanelBytes / (2 * k) / 64 * 64, 64));
  thread_local std::vector<uint16_t> buf;
  uint16_t* p = scratch(buf, static_cast<size_t>(panel * k));
  for (int64_t n0 = 0; n0 < n; n0 += panel) {
    const int64_t c = std::min(panel, n - n0);
    convert_panel(
        c, [&](int64_t j0, int64_t j1) { dequantize_rows_bf16(w_, n0 + j0, j1 - j0, p + j0 * k); });
    detail::dnnl_matmul_bf16(xb, m, k, p, c, y + n0, n);
  }
}

}  // namespace bricks::cpu
