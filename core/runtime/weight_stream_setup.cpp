#include "runtime/weight_stream_setup.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "engine/device.h"
#include "runtime/runtime_error.h"

namespace bricks::engine {

WeightPlan plan_weight_stream(const manifest::LoadedManifest& m, const model::Model& model) {
  WeightPlanInput in;
  in.budget_bytes = m.proto.device().weight_memory_bytes();
  if (in.budget_bytes <= 0 || static_cast<int64_t>(model.weight_bytes()) <= in.budget_bytes) {
    in.layer_bytes.assign(static_cast<size_t>(model.config().n_layers), 0);
    return plan_weights(in);
  }
  const std::string where = m.file.string() + ": device.weight_memory_bytes: ";
  if (const std::string why = WeightStream::cannot_stream(model); !why.empty()) {
    throw RuntimeError(where + "the weights (" + std::to_string(model.weight_bytes()) +
                       " bytes) exceed it, and " + why + "; give 0 to keep them all in memory");
  }
  in.fixed_bytes = WeightStream::fixed_bytes(model);
  in.layer_bytes = WeightStream::layer_buffer_bytes(model);
  try {
    return plan_weights(in);
  } catch (const std::invalid_argument& e) {
    throw RuntimeError(m.file.string() + ": " + e.what());
  }
}

std::unique_ptr<WeightStream> start_weight_stream(const manifest::LoadedManifest& m,
                                                  const model::Model& model, WeightPlan plan,
                                                  const LlamaWeights& weights,
                                                  cpu::Compute compute) {
  if (plan.num_streamed() == 0) return nullptr;
  try {
    plan.disk_bytes_per_s = WeightStream::measure_disk_rate(model);
    plan.compute_bytes_per_s = WeightStream::measure_compute_rate(weights);
    auto stream = std::make_unique<WeightStream>(model, plan, compute);
    spdlog::info("weights: {}; {}", plan.describe(), stream->io());
    return stream;
  } catch (const DeviceStepError& e) {
    throw RuntimeError(m.file.string() + ": device.weight_memory_bytes: " + e.what());
  }
}

}  // namespace bricks::engine
