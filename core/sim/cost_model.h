// The sim device's cost model: how long one engine step takes on a GPU (or a tensor-
// parallel group of them), from the batch's shape, in the roofline style of Vidur and
// DistServe. Every part combines its compute time and its memory time:
//
//   linear     per GEMM of a layer (qkv, o, gate/up, down; each GPU holds 1/tp of it):
//              gemm_latency_s + roof(compute, memory), where compute is 2 * T' * params
//              FLOPs at peak * eff, T' the tokens rounded up to whole row tiles
//              (gemm_tile_rows, or gemm_large_tile_rows from gemm_large_tile_from tokens
//              on), eff = gemm_efficiency_max * T / (T + gemm_half_tokens) *
//              T'N / (T'N + gemm_half_outputs) because small GEMMs (few tokens, or few
//              output tiles per GPU) cannot fill the tensor cores; memory is the weights
//              (read once per step) plus the GEMM's input and output activations at HBM
//              bandwidth. roof(c, m) = (c^p + m^p)^(1/p) with p = roofline_exponent: near
//              the knee neither bound hides the other; p = 0 takes the hard max(c, m).
//              docs/cost-model.md gives the fit of these constants to measured A100s.
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
// The parts run one after the other, so the step is their sum. With a pipeline of stages
// (CostModelOptions::pipeline) each stage computes its share of the layers and passes the
// activations on over a link, and the stages overlap on micro-batches: pipeline.h gives
// those terms and the step's time. With a calibration table the table's interpolated time
// replaces the whole sum (see calibration.h); a pipeline takes no table.
//
// Weights past the GPU's memory (CostModelOptions::tiers, weight_tiers.h) live in host
// memory or on an SSD: each step moves every non-resident layer to the GPU. Without
// overlap the step adds the transfers to the compute; with it, a layer's transfer runs
// beside the compute of the layers before it and the decoder layers take layer_pipeline's
// time, with compute per layer c = (linear_s + attention_s + comm_s) / layers +
// layer_overhead_s. The output projection and the step overhead follow as before. With no
// tier set (or all weights resident) the step is exactly what it was without tiers.
//
// Thread safety: const member functions are safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/calibration.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"
#include "sim/pipeline.h"
#include "sim/ssd_presets.h"
#include "sim/step_shape.h"
#include "sim/weight_tiers.h"

namespace bricks::sim {

// The model's constants. The defaults are generic: the GEMM constants are those fitted to
// measured A100 GEMMs (docs/cost-model.md), rounded, and hold as shares of any NVIDIA GPU's
// peak and bandwidth; a GPU with measured constants of its own ships them as a cost preset
// (cost_presets.h). They put Llama-2-7B decode at batch 1 on an A100 near 9 ms of linear
// layers plus ~2 ms of overheads, and a 2048-token prefill near 115 ms.
struct CostConstants {
  double gemm_efficiency_max = 0.75;  // share of peak a large bf16 GEMM sustains
  double gemm_half_tokens = 0;        // batch tokens at which GEMMs reach half of that (0: off)
  // Output elements of one GEMM on one GPU (rows x columns) at which it reaches half of
  // gemm_efficiency_max (0: off): the work a GPU's SMs share out as tiles.
  double gemm_half_outputs = 1e5;
  double gemm_latency_s = 5e-6;  // fixed time of one GEMM kernel, however small
  // How the compute and memory times of a GEMM combine: (c^p + m^p)^(1/p); 0 = max(c, m).
  double roofline_exponent = 2;
  // Rows of the tiles GEMMs compute: the tokens are rounded up to a whole number of them.
  // Batches of gemm_large_tile_from tokens or more use gemm_large_tile_rows. 1: no rounding.
  int32_t gemm_tile_rows = 64;
  int32_t gemm_large_tile_rows = 128;
  int32_t gemm_large_tile_from = 256;
  double attention_efficiency = 0.5;   // share of peak a FlashAttention-style prefill reaches
  double memory_efficiency = 0.9;      // share of HBM bandwidth a streaming read reaches
  double link_efficiency = 0.8;        // NCCL bus bandwidth over the link's nominal
  double pcie_efficiency = 0.8;        // pinned-memory copies over PCIe's nominal
  double allreduce_latency_s = 10e-6;  // fixed cost of one all-reduce
  double transfer_latency_s = 10e-6;   // fixed cost of one KV copy (one layer's K or V)
  double step_overhead_s = 1.5e-3;     // per step: scheduling, inputs, sampling
  double layer_overhead_s = 15e-6;     // per decoder layer: norms, rope, activation, adds
  // Memory held back from the KV cache on every GPU: the CUDA context and library
  // workspaces, and the activations of a forward pass of this many tokens.
  double runtime_reserve_bytes = 1.0 * (1ll << 30);
  int64_t activation_reserve_tokens = 4096;
};

struct CostModelOptions {
  int32_t tensor_parallel = 1;
  int32_t kv_element_bytes = 2;  // fp16/bf16 KV cache
  double pcie_bytes_per_s = 0;   // 0: the GPU preset's
  double link_bytes_per_s = 0;   // 0: the GPU preset's (within a tensor-parallel group)
  // Pipeline stages in order, each a group of tensor_parallel GPUs; their layers add up to
  // the model's. Empty (or one stage): no pipeline.
  std::vector<PipelineStage> pipeline;
  int32_t micro_batches = 0;  // per step, with a pipeline; 0: one per stage
  CostConstants constants;
  // Weights in host memory and on an SSD, and KV spilled to the SSD (weight_tiers.h).
  // Nothing set: every weight on the GPU, as before. Takes no pipeline.
  WeightTierOptions tiers;
};

// One step's modelled time and where it goes. Without calibration the parts add up to
// total_s + pipeline_overlap_s + weight_hidden_s; with it, total_s is the table's value and
// the parts are 0.
// With a pipeline the parts are the work of every stage and micro-batch (linear_s is the
// whole model's, as without one) and pipeline_overlap_s the share of it the stages did at
// the same time.
struct StepCost {
  double linear_s = 0, attention_s = 0, lm_head_s = 0, comm_s = 0, overhead_s = 0;
  double transfer_s = 0;          // activations between pipeline stages
  double pipeline_overlap_s = 0;  // work done while another stage worked too
  double weight_transfer_s = 0;   // streamed layers' copies to the GPU (weight tiers)
  double weight_hidden_s = 0;     // of which ran beside compute (overlap)
  double total_s = 0;
  bool calibrated = false;
};

// Where a KV copy goes; each path has its own bandwidth.
enum class CopyPath {
  kHostDevice,    // swap in or out over PCIe (host-to-host copies are charged the same)
  kDeviceDevice,  // within device memory: read and write at HBM bandwidth
  kSsdRead,       // from the SSD (to the GPU through host memory, or to host memory)
  kSsdWrite,      // to the SSD
};

class CostModel {
 public:
  // Throws SimError when tensor_parallel does not divide the heads and the FFN, or an
  // option is out of range.
  CostModel(GpuSpec gpu, ModelSpec model, const CostModelOptions& options = {});

  // Replaces the roofline by the table's times from now on. Throws SimError with a
  // pipeline: a table measures one unsplit GPU group.
  void set_calibration(CalibrationTable table);
  const std::optional<CalibrationTable>& calibration() const { return calibration_; }

  // The time of one step computing `seqs`, with `sampled_rows` rows of logits.
  StepCost step(std::span<const SeqWork> seqs, int64_t sampled_rows) const;

  // Time to copy one contiguous run of `tokens` KV slots (whole blocks) along `path`:
  // the pool is laid out per layer, so a run is 2 * layers transfers (K and V of each
  // layer), each transfer_latency_s plus its bytes over the path's bandwidth. With tp,
  // every GPU moves its own share over its own link at the same time; with a pipeline,
  // every stage its own layers (the stage with the most layers sets the time). The SSD
  // paths take the SSD's latency per transfer and the slower of its rate and PCIe's; they
  // throw SimError when no SSD is configured.
  double kv_copy_seconds(int64_t tokens, CopyPath path) const;

  // KV bytes (in the engine's accounting: all layers and all KV heads of the model) that
  // fit next to the weights on tp GPUs with `utilisation` of their memory. With a
  // pipeline, each stage's GPUs hold its layers' weights and KV (the first stage also the
  // embeddings, the last the output projection), and the fullest stage sets the tokens that
  // fit. Throws SimError naming the sizes (and the stage) when the weights alone do not fit.
  int64_t kv_capacity_bytes(double utilisation) const;

  // Bytes of KV of one token on one GPU (its share of the KV heads), over all layers: a
  // GPU of pipeline stage s holds layers_s / layers of it.
  int64_t kv_bytes_per_token_per_gpu() const;

  const GpuSpec& gpu() const { return gpu_; }
  const ModelSpec& model() const { return model_; }
  int32_t tensor_parallel() const { return tp_; }
  // The stages (one holding every layer when there is no pipeline) and micro-batches.
  const std::vector<PipelineStage>& pipeline() const { return stages_; }
  int32_t micro_batches() const { return micro_batches_; }
  const CostConstants& constants() const { return k_; }
  double pcie_bytes_per_s() const { return pcie_; }
  // Where the weights are (all on the GPU without tiers) and each layer's transfer time.
  const WeightPlacement& placement() const { return placement_; }
  const std::vector<double>& layer_transfer_seconds() const { return layer_transfer_s_; }
  const std::optional<SsdSpec>& ssd() const { return tiers_.ssd; }
  bool overlaps_transfers() const { return tiers_.overlap; }
  double link_bytes_per_s() const { return link_; }
  // "mistral-7b on 1x a100-80gb, roofline", "llama-2-70b on 2x a100-80gb x 2 stages
  // (40+40 layers), roofline" or "..., calibrated by <file>".
  std::string describe() const;

  // The linear layers of all decoder layers computing `tokens` tokens on one GPU of the
  // group: the roofline's linear term (StepCost::linear_s) on its own.
  double linear_seconds(double tokens) const;

 private:
  // One GEMM of `rows` tokens through `params` weights (per GPU) with `cols` output
  // columns, moving `bytes` in all: latency + roof(compute, memory).
  double gemm_seconds(double rows, double params, double cols, double bytes) const;
  double activation_elems_per_token_per_layer() const;
  // The step without a pipeline (every term above, summed).
  StepCost flat_step(std::span<const SeqWork> seqs, int64_t sampled_rows) const;
  // The step through the stages (pipeline.h).
  StepCost pipeline_step(std::span<const SeqWork> seqs, int64_t sampled_rows) const;
  // Weights on one GPU of stage s.
  double stage_weight_bytes(size_t s) const;
  // Memory held back from the KV cache on every GPU: CUDA context, workspaces, activations.
  double reserve_bytes() const;
  // Places the weights (constructor, with tiers): throws TierError as place_weights does.
  void place(const WeightTierOptions& tiers);

  GpuSpec gpu_;
  ModelSpec model_;
  int32_t tp_;
  int32_t kv_element_bytes_;
  double pcie_, link_;
  CostConstants k_;
  int32_t kv_heads_per_gpu_;
  std::vector<PipelineStage> stages_;
  int32_t micro_batches_;
  std::optional<CalibrationTable> calibration_;
  WeightTierOptions tiers_;
  WeightPlacement placement_;
  std::vector<double> layer_transfer_s_;  // per layer; empty when nothing streams
};

}  // namespace bricks::sim
