// The sim device's cost model: how long one engine step takes on a GPU (or a tensor-
// parallel group of them), from the batch's shape, in the roofline style of Vidur and
// DistServe. Every part is the slower of its compute time and its memory time:
//
//   linear     FLOPs 2 * linear_params * T / tp at peak * eff(T), against the weights (read
//              once per step) plus the layers' input/output activations at HBM bandwidth;
//              eff(T) = gemm_efficiency_max * T / (T + gemm_half_tokens) because small
//              GEMMs cannot fill the tensor cores.
//   attention  decodes read every sequence's K/V (bandwidth-bound); prefills do
//              4 * pairs * head_dim * heads FLOPs per layer, pairs = q*(c-q) + q*(q+1)/2
//              (causal: a full prompt is about c^2 / 2, half the square), at peak *
//              attention_efficiency, against reading their K/V.
//   lm_head    the output projection on the sampled rows only.
//   comm       tp > 1: two all-reduces per layer of T * hidden * 2 bytes over the link,
//              ring time 2 * (tp-1)/tp * bytes / bandwidth + allreduce_latency_s.
//   overhead   step_overhead_s (scheduling, input preparation, sampling) plus
//              layer_overhead_s per layer (kernel launches).
//
// The parts run one after the other, so the step is their sum. With a calibration table
// the table's interpolated time replaces the whole sum (see calibration.h).
//
// Thread safety: const member functions are safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "sim/calibration.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"
#include "sim/step_shape.h"

namespace bricks::sim {

// The model's constants. The defaults put Llama-2-7B decode at batch 1 on an A100 near
// weights / bandwidth (~7.5 ms) plus ~2 ms of overheads, and make a 2048-token prefill
// compute-bound (~130 ms), in line with published vLLM measurements on that GPU.
struct CostConstants {
  double gemm_efficiency_max = 0.7;    // share of peak a large bf16 GEMM sustains
  double gemm_half_tokens = 32;        // batch tokens at which GEMMs reach half of that
  double attention_efficiency = 0.5;   // share of peak a FlashAttention-style prefill reaches
  double memory_efficiency = 0.85;     // share of HBM bandwidth a streaming read reaches
  double link_efficiency = 0.8;        // NCCL bus bandwidth over the link's nominal
  double pcie_efficiency = 0.8;        // pinned-memory copies over PCIe's nominal
  double allreduce_latency_s = 10e-6;  // fixed cost of one all-reduce
  double transfer_latency_s = 10e-6;   // fixed cost of one KV copy (one layer's K or V)
  double step_overhead_s = 1.5e-3;     // per step: scheduling, inputs, sampling
  double layer_overhead_s = 15e-6;     // per decoder layer: kernel launches
  // Memory held back from the KV cache on every GPU: the CUDA context and library
  // workspaces, and the activations of a forward pass of this many tokens.
  double runtime_reserve_bytes = 1.0 * (1ll << 30);
  int64_t activation_reserve_tokens = 4096;
};

struct CostModelOptions {
  int32_t tensor_parallel = 1;
  int32_t kv_element_bytes = 2;  // fp16/bf16 KV cache
  double pcie_bytes_per_s = 0;   // 0: the GPU preset's
  double link_bytes_per_s = 0;   // 0: the GPU preset's
  CostConstants constants;
};

// One step's modelled time and where it goes. Without calibration the parts add up to
// total_s; with it, total_s is the table's value and the parts are 0.
struct StepCost {
  double linear_s = 0, attention_s = 0, lm_head_s = 0, comm_s = 0, overhead_s = 0;
  double total_s = 0;
  bool calibrated = false;
};

// Where a KV copy goes; each path has its own bandwidth.
enum class CopyPath {
  kHostDevice,    // swap in or out over PCIe (host-to-host copies are charged the same)
  kDeviceDevice,  // within device memory: read and write at HBM bandwidth
};

class CostModel {
 public:
  // Throws SimError when tensor_parallel does not divide the heads and the FFN, or an
  // option is out of range.
  CostModel(GpuSpec gpu, ModelSpec model, const CostModelOptions& options = {});

  // Replaces the roofline by the table's times from now on.
  void set_calibration(CalibrationTable table) { calibration_ = std::move(table); }
  const std::optional<CalibrationTable>& calibration() const { return calibration_; }

  // The time of one step computing `seqs`, with `sampled_rows` rows of logits.
  StepCost step(std::span<const SeqWork> seqs, int64_t sampled_rows) const;

  // Time to copy one contiguous run of `tokens` KV slots (whole blocks) along `path`:
  // the pool is laid out per layer, so a run is 2 * layers transfers (K and V of each
  // layer), each transfer_latency_s plus its bytes over the path's bandwidth. With tp,
  // every GPU moves its own share over its own link at the same time.
  double kv_copy_seconds(int64_t tokens, CopyPath path) const;

  // KV bytes (in the engine's accounting: all layers and all KV heads of the model) that
  // fit next to the weights on tp GPUs with `utilisation` of their memory. Throws
  // SimError naming the sizes when the weights alone do not fit.
  int64_t kv_capacity_bytes(double utilisation) const;

  // Bytes of KV of one token on one GPU (its share of the KV heads).
  int64_t kv_bytes_per_token_per_gpu() const;

  const GpuSpec& gpu() const { return gpu_; }
  const ModelSpec& model() const { return model_; }
  int32_t tensor_parallel() const { return tp_; }
  const CostConstants& constants() const { return k_; }
  double pcie_bytes_per_s() const { return pcie_; }
  double link_bytes_per_s() const { return link_; }
  // "mistral-7b on 1x a100-80gb, roofline" or "..., calibrated by <file>".
  std::string describe() const;

 private:
  double gemm_efficiency(double tokens) const;
  double activation_elems_per_token_per_layer() const;

  GpuSpec gpu_;
  ModelSpec model_;
  int32_t tp_;
  int32_t kv_element_bytes_;
  double pcie_, link_;
  CostConstants k_;
  int32_t kv_heads_per_gpu_;
  std::optional<CalibrationTable> calibration_;
};

}  // namespace bricks::sim
