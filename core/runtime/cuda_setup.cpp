#include "runtime/cuda_setup.h"

#include "cuda/cuda_device.h"
#include "runtime/runtime_error.h"

namespace bricks::engine {
namespace {

// Share of the GPU memory left after the weights that the KV cache takes by default; the
// rest is for activations, cuBLAS workspaces and the attention brick's buffers.
constexpr double kDefaultKvShare = 0.85;

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const manifest::LoadedManifest& m,
                                         const model::Model& model,
                                         const std::vector<ManifestBrick>& created,
                                         const EngineBricks& bricks,
                                         const host::BrickInstance& attention,
                                         std::string* summary) {
  const std::string where = m.file.string() + ": ";
  for (const ManifestBrick& b : created) {
    if (b.kind == BRICKS_KIND_PRUNING || b.kind == BRICKS_KIND_ROUTER ||
        b.kind == BRICKS_KIND_ADAPTER) {
      throw RuntimeError(where + "the cuda device does not run " +
                         std::string(host::kind_name(b.kind)) + " bricks yet (" + b.name +
                         "); remove it, or use device.kind \"cpu\"");
    }
  }
  if (m.proto.model().adapters_size() > 0) {
    throw RuntimeError(where +
                       "model.adapters: the cuda device does not run adapters yet; "
                       "remove them, or use device.kind \"cpu\"");
  }
  const manifest::Device& d = m.proto.device();
  cuda::CudaDeviceOptions o;
  o.model = &model;
  o.attention = &attention;
  o.ordinal = d.cuda_device();
  if (!d.compute().empty() && d.compute() != "bf16" && d.compute() != "f16") {
    throw RuntimeError(where + "device.compute '" + d.compute() +
                       "' is not a cuda precision; use bf16 or f16");
  }
  o.bf16 = d.compute() != "f16";
  o.overlap_copies = d.overlap_swaps();
  cuda::CudaDeviceInfo info;
  std::unique_ptr<Device> device;
  try {
    device = cuda::make_cuda_device(o, &info);
  } catch (const cuda::CudaUnavailable& e) {
    throw RuntimeError(where + "device.kind \"cuda\": " + e.what());
  }
  EngineOptions eo;
  eo.kv_cache_bytes =
      d.kv_cache_bytes() > 0
          ? d.kv_cache_bytes()
          : static_cast<int64_t>(kDefaultKvShare * static_cast<double>(info.free_bytes));
  eo.host_kv_bytes = d.host_kv_bytes();
  eo.kv_dtype = d.kv_dtype() == "f32" ? BRICKS_DTYPE_F32 : BRICKS_DTYPE_F16;
  if (eo.kv_cache_bytes > info.free_bytes) {
    throw RuntimeError(where + "device.kv_cache_bytes is " + std::to_string(eo.kv_cache_bytes) +
                       " bytes; the GPU has " + std::to_string(info.free_bytes) +
                       " free after the weights: give less, or 0 for " +
                       std::to_string(static_cast<int>(kDefaultKvShare * 100)) +
                       "% of what is free");
  }
  *summary = info.summary + ", kv " + (eo.kv_dtype == BRICKS_DTYPE_F16 ? "f16" : "f32") + " " +
             std::to_string(eo.kv_cache_bytes >> 20) + " MiB, model " +
             model.path().filename().string();
  try {
    return std::make_unique<Engine>(EngineModel{model.config(), &model.tokenizer()}, bricks, eo,
                                    std::move(device));
  } catch (const std::invalid_argument& e) {
    throw RuntimeError(where + e.what());
  }
}

}  // namespace bricks::engine
