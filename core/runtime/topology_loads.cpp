#include "runtime/topology_loads.h"

#include <algorithm>
#include <vector>

#include "runtime/runtime_error.h"
#include "sim/cost_presets.h"
#include "sim/sim_error.h"
#include "workload/workload.h"

namespace bricks::engine {

namespace {

constexpr int32_t kPrefillChunkTokens = 512;
constexpr int32_t kDecodeBatch = 64;
constexpr size_t kSampledRequests = 2000;

}  // namespace

TopologyLoads::TopologyLoads(const manifest::LoadedManifest& m, const Topology& t) {
  const manifest::Device& d = m.proto.device();
  const std::string where = m.file.string() + ": ";
  if (d.kind() != "sim" || d.sim_model().empty()) {
    throw RuntimeError(where +
                       "placement on a topology runs on the sim device; set device.kind: "
                       "\"sim\" and a sim_model");
  }
  if (t.nodes.empty()) throw RuntimeError(t.file + ": the topology has no nodes");
  gpu_ = t.nodes.front().gpu;
  try {
    model_ = sim::load_model(d.sim_model(), m.base_dir());
    constants_ = sim::load_cost_constants(d.cost_model(), m.base_dir(), gpu_.name);
  } catch (const sim::SimError& e) {
    throw RuntimeError(where + e.what());
  }
  kv_element_bytes_ = d.kv_dtype() == "f32" ? 4 : 2;
  WorkloadContext ctx;
  ctx.vocab_size = model_.config.vocab_size;
  ctx.base_dir = m.base_dir();
  ctx.max_requests = kSampledRequests;
  std::vector<RequestSpec> sample;
  try {
    sample = make_workload(m.proto.workload(), ctx);
  } catch (const std::exception& e) {
    throw RuntimeError(where + e.what());
  }
  for (const RequestSpec& r : sample) {
    mean_prompt_ += static_cast<double>(r.prompt.size());
    mean_output_ += r.max_new_tokens;
  }
  if (!sample.empty()) {
    mean_prompt_ /= static_cast<double>(sample.size());
    mean_output_ /= static_cast<double>(sample.size());
  }
}

RoleLoad TopologyLoads::role_load(int32_t tp, bool prefill) const {
  sim::CostModelOptions o;
  o.tensor_parallel = tp;
  o.kv_element_bytes = kv_element_bytes_;
  o.constants = constants_;
  const sim::CostModel cost(gpu_, model_, o);
  std::vector<sim::SeqWork> step;
  if (prefill) {
    step.push_back({kPrefillChunkTokens, kPrefillChunkTokens});
  } else {
    const auto context = static_cast<int64_t>(mean_prompt_ + mean_output_ / 2);
    step.assign(kDecodeBatch, sim::SeqWork{1, std::max<int64_t>(context, 1)});
  }
  const sim::StepCost c = cost.step(step, prefill ? 1 : kDecodeBatch);
  const double layers = model_.config.n_layers;
  const double tokens = prefill ? kPrefillChunkTokens : kDecodeBatch;
  const double act = static_cast<double>(model_.config.hidden) * model_.weight_bytes;
  RoleLoad r;
  r.layer_s = (c.linear_s + c.attention_s + c.comm_s) / layers + constants_.layer_overhead_s;
  r.last_stage_s = c.lm_head_s;
  r.step_act_bytes = tokens * act;
  if (prefill) {
    r.step_kv_bytes_per_layer = tokens *
                                static_cast<double>(model_.kv_bytes_per_token(kv_element_bytes_)) /
                                model_.config.n_layers;
  }
  r.request_act_bytes = (prefill ? mean_prompt_ : mean_output_) * act;
  return r;
}

LayoutInputs TopologyLoads::inputs(const Placement& p) const {
  LayoutInputs in;
  in.layers = model_.config.n_layers;
  try {
    in.prefill = role_load(p.prefill_tp, true);
    in.decode = role_load(p.decode_tp, false);
  } catch (const sim::SimError& e) {
    throw RuntimeError(p.describe() + ": " + e.what());
  }
  in.kv_bytes_per_layer = mean_prompt_ *
                          static_cast<double>(model_.kv_bytes_per_token(kv_element_bytes_)) /
                          model_.config.n_layers;
  return in;
}

}  // namespace bricks::engine
