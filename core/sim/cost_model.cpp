#include "sim/cost_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

std::string pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", share * 100);
  return buf;
}

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / static_cast<double>(1ll << 30));
  return buf;
}

}  // namespace

CostModel::CostModel(GpuSpec gpu, ModelSpec model, const CostModelOptions& options)
    : gpu_(std::move(gpu)),
      model_(std::move(model)),
      tp_(options.tensor_parallel),
      kv_element_bytes_(options.kv_element_bytes),
      pcie_(options.pcie_bytes_per_s > 0 ? options.pcie_bytes_per_s : gpu_.pcie_bytes_per_s),
      link_(options.link_bytes_per_s > 0 ? options.link_bytes_per_s : gpu_.link_bytes_per_s),
      k_(options.constants) {
  const model::LlamaConfig& c = model_.config;
  if (tp_ < 1) throw SimError("tensor_parallel is " + std::to_string(tp_) + "; give 1 or more");
  if (c.n_heads % tp_ != 0 || c.ffn % tp_ != 0) {
    throw SimError("tensor_parallel " + std::to_string(tp_) + " does not divide " + model_.name +
                   "'s " + std::to_string(c.n_heads) + " attention heads and FFN width " +
                   std::to_string(c.ffn) + "; pick a divisor of both");
  }
  if (kv_element_bytes_ != 2 && kv_element_bytes_ != 4) {
    throw SimError("KV element bytes must be 2 (f16) or 4 (f32)");
  }
  if (pcie_ <= 0 || link_ <= 0 || gpu_.hbm_bytes_per_s <= 0 || gpu_.bf16_flops <= 0) {
    throw SimError("GPU " + gpu_.name + " has a zero bandwidth or peak");
  }
  // KV heads split across the group; with fewer KV heads than GPUs each GPU keeps a copy
  // of one (as vLLM replicates them).
  kv_heads_per_gpu_ = std::max(1, c.n_kv_heads / tp_);

  stages_ = options.pipeline;
  if (stages_.empty()) stages_.push_back(PipelineStage{c.n_layers, 0, 0});
  int32_t held = 0;
  for (size_t s = 0; s < stages_.size(); ++s) {
    const PipelineStage& st = stages_[s];
    const std::string name = "pipeline stage " + std::to_string(s);
    if (st.layers < 1) {
      throw SimError(name + " holds " + std::to_string(st.layers) +
                     " layers; give every stage 1 or more");
    }
    held += st.layers;
    if (s + 1 < stages_.size() && !(st.link_bytes_per_s > 0 && st.link_latency_s >= 0)) {
      throw SimError(name +
                     "'s link to the next stage needs a bandwidth above 0 and a latency of 0 "
                     "or more");
    }
  }
  if (held != c.n_layers) {
    throw SimError("the pipeline's stages hold " + std::to_string(held) + " layers and " +
                   model_.name + " has " + std::to_string(c.n_layers) +
                   "; make the stages' layers add up to the model's");
  }
  if (options.micro_batches < 0) {
    throw SimError("micro_batches is " + std::to_string(options.micro_batches) +
                   "; give 0 (one per stage) or more");
  }
  micro_batches_ =
      options.micro_batches > 0 ? options.micro_batches : static_cast<int32_t>(stages_.size());
  place(options.tiers);
}

void CostModel::place(const WeightTierOptions& tiers) {
  tiers_ = tiers;
  const model::LlamaConfig& c = model_.config;
  WeightShape shape;
  shape.layers = c.n_layers;
  shape.layer_bytes = (static_cast<double>(model_.linear_params_per_layer()) +
                       2.0 * (model_.biases ? 2.0 : 1.0) * c.hidden) *
                      model_.weight_bytes / tp_;
  shape.fixed_bytes = stage_weight_bytes(0) - shape.layer_bytes * c.n_layers;
  shape.tensor_parallel = tp_;
  shape.model = model_.name;
  if (!tiers.enabled()) {
    placement_ = place_weights(shape, std::numeric_limits<double>::infinity(), tiers);
    return;
  }
  if (stages_.size() > 1) {
    throw TierError("weight_memory_bytes",
                    "weights in host memory or on an SSD are modelled on one GPU group, not "
                    "a pipeline of " +
                        std::to_string(stages_.size()) +
                        " stages; drop the pipeline or the weight tiers");
  }
  // The budget: what the manifest gives weights, else what the GPU has after the workspace
  // and the KV of one sequence at the model's full context (so that one request can run).
  double budget = tiers.gpu_weight_bytes;
  if (budget <= 0) {
    budget = gpu_.memory_bytes * tiers.gpu_memory_utilization - reserve_bytes() -
             static_cast<double>(c.context_length) * kv_bytes_per_token_per_gpu();
  }
  placement_ = place_weights(shape, budget, tiers);
  if (!placement_.streams()) return;
  for (WeightTier t : placement_.layers) {
    layer_transfer_s_.push_back(sim::layer_transfer_seconds(
        t, shape.layer_bytes, tp_, pcie_ * k_.pcie_efficiency, k_.transfer_latency_s, tiers.ssd));
  }
}

void CostModel::set_calibration(CalibrationTable table) {
  if (placement_.streams()) {
    throw SimError("a calibration table times steps with every weight on the GPU; " + model_.name +
                   " streams " + std::to_string(placement_.host_layers + placement_.ssd_layers) +
                   " layers from host memory or the SSD: drop the calibration file or the "
                   "weight tiers");
  }
  if (stages_.size() > 1) {
    throw SimError("a calibration table times the steps of one unsplit GPU group; a pipeline of " +
                   std::to_string(stages_.size()) +
                   " stages takes none: drop the calibration file or the pipeline");
  }
  calibration_ = std::move(table);
}

double CostModel::gemm_seconds(double rows, double params, double cols, double bytes) const {
  const int32_t tile =
      std::max(1, rows >= k_.gemm_large_tile_from ? k_.gemm_large_tile_rows : k_.gemm_tile_rows);
  const double padded = std::ceil(rows / tile) * tile;
  double eff = k_.gemm_efficiency_max;
  if (k_.gemm_half_tokens > 0) eff *= padded / (padded + k_.gemm_half_tokens);
  if (k_.gemm_half_outputs > 0) eff *= padded * cols / (padded * cols + k_.gemm_half_outputs);
  const double compute = 2.0 * params * padded / (gpu_.bf16_flops * eff);
  const double memory = bytes / (gpu_.hbm_bytes_per_s * k_.memory_efficiency);
  const double p = k_.roofline_exponent;
  const double roof = p > 0 ? std::pow(std::pow(compute, p) + std::pow(memory, p), 1.0 / p)
                            : std::max(compute, memory);
  return k_.gemm_latency_s + roof;
}

// The four GEMMs of a decoder layer on one GPU. Column-parallel ones (qkv, gate/up) read the
// whole input and write their share; row-parallel ones (o, down) read their share and write
// the whole output before the all-reduce. Biases count as weights of the GEMM they follow.
double CostModel::linear_seconds(double tokens) const {
  if (tokens <= 0) return 0.0;
  const model::LlamaConfig& c = model_.config;
  const double h = c.hidden, tp = tp_, w = model_.weight_bytes;
  const double q = static_cast<double>(c.n_heads) * c.head_dim;
  const double kv_all = static_cast<double>(c.n_kv_heads) * c.head_dim;
  const double kv = static_cast<double>(kv_heads_per_gpu_) * c.head_dim;
  const double ffn = c.ffn, ffn_out = (model_.gated_ffn ? 2.0 : 1.0) * c.ffn;
  const double bias = model_.biases ? 1.0 : 0.0;
  struct Gemm {
    double params, cols, activations;  // per GPU; activations per token, in and out
  };
  const Gemm gemms[] = {
      {(h + bias) * (q + 2 * kv_all) / tp, (q + 2 * kv_all) / tp, h + q / tp + 2 * kv},
      {(q + bias) * h / tp, h, q / tp + h},
      {(h * ffn_out + bias * ffn) / tp, ffn_out / tp, h + ffn_out / tp},
      {(ffn + bias) * h / tp, h, ffn / tp + h},
  };
  double layer = 0;
  for (const Gemm& g : gemms) {
    layer += gemm_seconds(tokens, g.params, g.cols, (g.params + tokens * g.activations) * w);
  }
  return layer * c.n_layers;
}

// Elements read and written per token per layer by the linear layers on one GPU. Column-
// parallel layers (qkv, gate/up) read the whole input and write their share; row-parallel
// ones (o, down) read their share and write the whole output before the all-reduce.
double CostModel::activation_elems_per_token_per_layer() const {
  const model::LlamaConfig& c = model_.config;
  const double h = c.hidden, tp = tp_;
  const double q = static_cast<double>(c.n_heads) * c.head_dim;
  const double kv = static_cast<double>(kv_heads_per_gpu_) * c.head_dim;
  const double ffn_out = (model_.gated_ffn ? 2.0 : 1.0) * c.ffn;
  return (h + q / tp + 2 * kv) + (q / tp + h) + (h + ffn_out / tp) + (c.ffn / tp + h);
}

int64_t CostModel::kv_bytes_per_token_per_gpu() const {
  const model::LlamaConfig& c = model_.config;
  return 2ll * c.n_layers * kv_heads_per_gpu_ * c.head_dim * kv_element_bytes_;
}

StepCost CostModel::step(std::span<const SeqWork> seqs, int64_t sampled_rows) const {
  if (calibration_) {
    StepCost out;
    out.total_s = calibration_->seconds(step_shape(seqs));
    out.calibrated = true;
    return out;
  }
  return stages_.size() > 1 && !seqs.empty() ? pipeline_step(seqs, sampled_rows)
                                             : flat_step(seqs, sampled_rows);
}

StepCost CostModel::pipeline_step(std::span<const SeqWork> seqs, int64_t sampled_rows) const {
  const double layers = model_.config.n_layers;
  const double activation_bytes = static_cast<double>(model_.config.hidden) * model_.weight_bytes;
  const std::vector<size_t> starts = split_micro_batches(seqs, micro_batches_);
  const auto n = static_cast<int64_t>(seqs.size());
  StepCost out;
  std::vector<std::vector<double>> t(starts.size() - 1);
  for (size_t m = 0; m + 1 < starts.size(); ++m) {
    const std::span<const SeqWork> part = seqs.subspan(starts[m], starts[m + 1] - starts[m]);
    // The sampled rows go with the sequences, in proportion.
    const int64_t rows = sampled_rows * static_cast<int64_t>(starts[m + 1]) / n -
                         sampled_rows * static_cast<int64_t>(starts[m]) / n;
    const StepCost f = flat_step(part, rows);
    double tokens = 0;
    for (const SeqWork& w : part) tokens += w.new_tokens;
    const double per_layer = (f.linear_s + f.attention_s + f.comm_s) / layers;
    for (size_t s = 0; s < stages_.size(); ++s) {
      const PipelineStage& st = stages_[s];
      const bool last = s + 1 == stages_.size();
      // Its layers, then its send to the next stage (the last stage: the output projection).
      const double layers_s = st.layers * (per_layer + k_.layer_overhead_s);
      const double after =
          last ? f.lm_head_s : st.link_latency_s + tokens * activation_bytes / st.link_bytes_per_s;
      t[m].push_back(layers_s + after);
      if (!last) out.transfer_s += after;
    }
    out.linear_s += f.linear_s;
    out.attention_s += f.attention_s;
    out.lm_head_s += f.lm_head_s;
    out.comm_s += f.comm_s;
    out.overhead_s += layers * k_.layer_overhead_s;
  }
  out.overhead_s += k_.step_overhead_s;
  out.total_s = k_.step_overhead_s + pipeline_seconds(t);
  const double work =
      out.linear_s + out.attention_s + out.lm_head_s + out.comm_s + out.transfer_s + out.overhead_s;
  out.pipeline_overlap_s = std::max(0.0, work - out.total_s);
  return out;
}

StepCost CostModel::flat_step(std::span<const SeqWork> seqs, int64_t sampled_rows) const {
  StepCost out;
  const model::LlamaConfig& c = model_.config;
  const double tp = tp_, layers = c.n_layers, wbytes = model_.weight_bytes;
  const double peak = gpu_.bf16_flops;
  const double hbm = gpu_.hbm_bytes_per_s * k_.memory_efficiency;
  double tokens = 0;
  for (const SeqWork& s : seqs) tokens += s.new_tokens;

  out.linear_s = linear_seconds(tokens);

  const double kv_token = static_cast<double>(kv_bytes_per_token_per_gpu());
  const double heads = static_cast<double>(c.n_heads) / tp;
  double decode_bytes = 0, prefill_bytes = 0, prefill_flops = 0;
  for (const SeqWork& s : seqs) {
    const auto q = static_cast<double>(s.new_tokens), ctx = static_cast<double>(s.context);
    // Read the whole context's K/V (the new tokens' included) and write the new ones.
    const double bytes = (ctx + q) * kv_token;
    if (s.new_tokens == 1) {
      decode_bytes += bytes;
    } else {
      const double pairs = q * (ctx - q) + q * (q + 1) / 2;
      prefill_flops += 4.0 * pairs * c.head_dim * heads * layers;
      prefill_bytes += bytes;
    }
  }
  out.attention_s = decode_bytes / hbm +
                    std::max(prefill_flops / (peak * k_.attention_efficiency), prefill_bytes / hbm);

  if (sampled_rows > 0) {
    const auto rows = static_cast<double>(sampled_rows);
    const double params = static_cast<double>(model_.lm_head_params()) / tp;
    const double bytes = params * wbytes + rows * c.vocab_size / tp * 4.0;  // f32 logits
    out.lm_head_s = gemm_seconds(rows, params, c.vocab_size / tp, bytes);
  }

  if (tp_ > 1 && tokens > 0) {
    const double bytes = tokens * c.hidden * wbytes;
    const double one =
        2.0 * (tp - 1) / tp * bytes / (link_ * k_.link_efficiency) + k_.allreduce_latency_s;
    out.comm_s = 2.0 * layers * one;
  }

  out.overhead_s = k_.step_overhead_s + layers * k_.layer_overhead_s;
  out.total_s = out.linear_s + out.attention_s + out.lm_head_s + out.comm_s + out.overhead_s;
  if (!layer_transfer_s_.empty() && tokens > 0) {
    const double per_layer =
        (out.linear_s + out.attention_s + out.comm_s) / layers + k_.layer_overhead_s;
    const LayerPipeline p = layer_pipeline(layer_transfer_s_, per_layer, tiers_.overlap);
    out.weight_transfer_s = p.transfer_s;
    out.weight_hidden_s = p.hidden_s;
    out.total_s = p.seconds + out.lm_head_s + k_.step_overhead_s;
  }
  return out;
}

double CostModel::kv_copy_seconds(int64_t tokens, CopyPath path) const {
  if (tokens <= 0) return 0.0;
  const model::LlamaConfig& c = model_.config;
  // One layer's K (or V) of the run on one GPU.
  const double bytes =
      static_cast<double>(tokens) * kv_heads_per_gpu_ * c.head_dim * kv_element_bytes_;
  double bw = 0, latency = k_.transfer_latency_s;
  switch (path) {
    case CopyPath::kHostDevice:
      bw = pcie_ * k_.pcie_efficiency;
      break;
    case CopyPath::kDeviceDevice:
      bw = gpu_.hbm_bytes_per_s * k_.memory_efficiency / 2.0;  // read + write
      break;
    case CopyPath::kSsdRead:
    case CopyPath::kSsdWrite: {
      if (!tiers_.ssd) throw SimError("a KV copy to or from the SSD with no SSD configured");
      const SsdSpec& ssd = *tiers_.ssd;
      // The group's GPUs share the SSD; each moves its share over its own PCIe link.
      const double rate = path == CopyPath::kSsdRead ? ssd.read_bytes_per_s : ssd.write_bytes_per_s;
      bw = std::min(pcie_ * k_.pcie_efficiency, rate / tp_);
      latency = ssd.latency_s;
      break;
    }
  }
  int32_t layers = 0;  // every stage copies its own layers at the same time
  for (const PipelineStage& st : stages_) layers = std::max(layers, st.layers);
  return 2.0 * layers * (latency + bytes / bw);
}

double CostModel::stage_weight_bytes(size_t s) const {
  if (stages_.size() == 1) return static_cast<double>(model_.weight_bytes_total()) / tp_;
  const double h = model_.config.hidden;
  const double norm = (model_.biases ? 2.0 : 1.0) * h;
  const auto head = static_cast<double>(model_.lm_head_params());
  double params =
      (static_cast<double>(model_.linear_params_per_layer()) + 2 * norm) * stages_[s].layers;
  if (s == 0) params += head + model_.learned_positions * h;  // token and position embeddings
  if (s + 1 == stages_.size())
    params += norm + head;  // final norm, output projection (a copy
                            // of the embeddings when tied)
  return params * model_.weight_bytes / tp_;
}

double CostModel::reserve_bytes() const {
  const model::LlamaConfig& c = model_.config;
  // The residual stream in full plus the layers' widest activations (split by tp).
  const double activation_per_token =
      (2.0 * c.hidden + activation_elems_per_token_per_layer()) * model_.weight_bytes;
  return k_.runtime_reserve_bytes +
         static_cast<double>(k_.activation_reserve_tokens) * activation_per_token;
}

int64_t CostModel::kv_capacity_bytes(double utilisation) const {
  if (!(utilisation > 0 && utilisation <= 1)) {
    throw SimError("gpu_memory_utilization must be in (0, 1]");
  }
  const model::LlamaConfig& c = model_.config;
  const double reserve = reserve_bytes();
  const double budget = gpu_.memory_bytes * utilisation;
  const auto kv_all_layers = static_cast<double>(kv_bytes_per_token_per_gpu());
  double tokens = 0;
  for (size_t s = 0; s < stages_.size(); ++s) {
    // Streaming: the resident layers, the fixed part and the staging buffers.
    const double weights = placement_.streams() ? placement_.gpu_bytes() : stage_weight_bytes(s);
    const double free = budget - weights - reserve;
    if (free <= 0) {
      const std::string who =
          stages_.size() == 1
              ? model_.name
              : "stage " + std::to_string(s) + " of " + std::to_string(stages_.size()) + " (" +
                    std::to_string(stages_[s].layers) + " layers of " + model_.name + ")";
      throw SimError(who + " needs " + gib(weights) + " of weights and " + gib(reserve) +
                     " of workspace per GPU, more than " + gib(budget) + " (" + pct(utilisation) +
                     " of " + gpu_.name + "'s " + gib(gpu_.memory_bytes) + "); " +
                     (stages_.size() == 1 ? "" : "give it fewer layers, ") +
                     "raise tensor_parallel or pick a larger GPU");
    }
    const double fit = std::floor(free / (kv_all_layers * stages_[s].layers / c.n_layers));
    tokens = s == 0 ? fit : std::min(tokens, fit);
  }
  return static_cast<int64_t>(tokens) * model_.kv_bytes_per_token(kv_element_bytes_);
}

std::string CostModel::describe() const {
  std::string s = model_.name + " on " + std::to_string(tp_) + "x " + gpu_.name;
  if (stages_.size() > 1) {
    s += " x " + std::to_string(stages_.size()) + " stages (";
    for (size_t i = 0; i < stages_.size(); ++i) {
      s += (i ? "+" : "") + std::to_string(stages_[i].layers);
    }
    s += " layers)";
  }
  s += calibration_ ? ", calibrated by " + calibration_->source() : ", roofline";
  const WeightPlacement& p = placement_;
  if (p.streams()) {
    s += "; layers " + std::to_string(p.gpu_layers) + " on GPU, " + std::to_string(p.host_layers) +
         " in host memory, " + std::to_string(p.ssd_layers) + " on " +
         (tiers_.ssd ? tiers_.ssd->name : std::string("SSD")) + ", streamed " +
         (tiers_.overlap ? "beside compute" : "before compute");
  }
  return s;
}

}  // namespace bricks::sim
