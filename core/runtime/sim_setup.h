// From a manifest's device section (kind "sim") to what the engine runs on: the model's
// shape, the SimDevice with its cost model, the KV bytes and a summary line for reports.
// No model file is opened and no weight is loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bricks/model/model.h"
#include "engine/sim_device.h"
#include "manifest/manifest.h"
#include "sim/pipeline.h"
#include "sim/sim_error.h"

namespace bricks::engine {

struct SimSetup {
  model::LlamaConfig config;  // the preset's shape, for EngineModel
  std::unique_ptr<SimDevice> device;
  int64_t kv_capacity_bytes = 0;  // KV that fits beside the weights (the default)
  int64_t kv_cache_bytes = 0;     // what the engine gets: device.kv_cache_bytes, or the capacity
  // The engine's host tier: device.host_kv_bytes, plus device.disk_kv_bytes whose blocks
  // the SimDevice places on the SSD.
  int64_t host_kv_bytes = 0;
  bricks_dtype kv_dtype = BRICKS_DTYPE_F16;
  // "sim: mistral-7b on 1x a100-80gb, roofline; kv f16 57.9 GiB ...; the attention brick
  // is created but unused".
  std::string summary;
};

// make_sim_setup's error about one field of the device section. what() reads
// "FILE: device.FIELD: detail"; field() and detail() give the parts, for a caller that
// places the error at the field (bricks validate).
class SimFieldError : public sim::SimError {
 public:
  SimFieldError(const std::string& file, std::string field, std::string detail)
      : sim::SimError(file + ": " + field + ": " + detail),
        field_(std::move(field)),
        detail_(std::move(detail)) {}
  const std::string& field() const { return field_; }  // "device.tensor_parallel"
  const std::string& detail() const { return detail_; }

 private:
  std::string field_, detail_;
};

// What one instance of a cluster on a topology changes in the device section.
struct SimInstanceShape {
  const sim::GpuSpec* gpu = nullptr;         // replaces device.gpu when set
  std::vector<sim::PipelineStage> pipeline;  // its stages (sim/pipeline.h); empty: none
  int32_t micro_batches = 0;                 // per step with a pipeline; 0: one per stage
};

// Builds the sim device the manifest's device section describes (gpu, sim_model,
// tensor_parallel, calibration_file, overlap_swaps, bandwidth overrides, memory
// utilisation, kv_dtype, and the tiers: weight_memory_bytes, host_memory_bytes, ssd,
// disk_kv_bytes), as `shape` changes it. Throws SimFieldError naming the manifest
// file, the field and the fix (an unknown preset, a tensor-parallel degree that does not
// divide the model, weights that do not fit, a calibration file with a pipeline), or
// sim::SimError for a bad calibration row, with its file and line.
SimSetup make_sim_setup(const manifest::LoadedManifest& m, const SimInstanceShape& shape = {});

}  // namespace bricks::engine
