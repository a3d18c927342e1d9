// A small GPU and model with round numbers, and constants that make every step time of
// the cost model computable by hand (see cost_model_test.cpp for the arithmetic).
#pragma once

#include "sim/cost_model.h"

namespace bricks::testing {

inline constexpr double kUs = 1e-6;  // seconds in a microsecond

// 100 TFLOP/s, 1 TB/s HBM, 100 GB/s link, 10 GB/s PCIe, 64 GiB.
inline sim::GpuSpec round_gpu() {
  sim::GpuSpec g;
  g.name = "round-gpu";
  g.memory_bytes = 64.0 * (1ll << 30);
  g.hbm_bytes_per_s = 1e12;
  g.bf16_flops = 100e12;
  g.link_bytes_per_s = 100e9;
  g.pcie_bytes_per_s = 10e9;
  g.price_per_hour = 1.0;
  return g;
}

// 2 layers, hidden 1024, 8 heads of 128 (8 KV heads), SwiGLU FFN 4096, vocab 1000:
// 16 Mi linear weights per layer (4 * 1024^2 attention + 3 * 1024 * 4096 FFN).
inline sim::ModelSpec round_model() {
  sim::ModelSpec m;
  m.name = "round-model";
  m.config.n_layers = 2;
  m.config.hidden = 1024;
  m.config.n_heads = 8;
  m.config.n_kv_heads = 8;
  m.config.head_dim = 128;
  m.config.ffn = 4096;
  m.config.vocab_size = 1000;
  m.config.context_length = 4096;
  return m;
}

// Full efficiency everywhere, 1 ms per step and 10 us per layer of overhead; GEMMs are
// the hard max of compute and memory, with no latency and no tile rounding.
inline sim::CostConstants plain_constants() {
  sim::CostConstants k;
  k.gemm_efficiency_max = 1.0;
  k.gemm_half_tokens = 0.0;
  k.gemm_half_outputs = 0.0;
  k.gemm_latency_s = 0.0;
  k.roofline_exponent = 0.0;
  k.gemm_tile_rows = 1;
  k.gemm_large_tile_rows = 1;
  k.attention_efficiency = 1.0;
  k.memory_efficiency = 1.0;
  k.link_efficiency = 1.0;
  k.pcie_efficiency = 1.0;
  k.allreduce_latency_s = 5e-6;
  k.transfer_latency_s = 10e-6;
  k.step_overhead_s = 1e-3;
  k.layer_overhead_s = 10e-6;
  return k;
}

inline sim::CostModel round_cost_model(int32_t tp = 1, sim::CostConstants k = plain_constants()) {
  sim::CostModelOptions o;
  o.tensor_parallel = tp;
  o.constants = k;
  return sim::CostModel(round_gpu(), round_model(), o);
}

}  // namespace bricks::testing
