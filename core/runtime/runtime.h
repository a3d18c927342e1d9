// Everything a manifest asks for, built and wired: plugins loaded, model opened (or
// generated), bricks created with their params, the engine ready to take requests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "engine/engine.h"
#include "engine/layer_ffn.h"
#include "engine/llama_weights.h"
#include "engine/weight_stream.h"
#include "host/registry.h"
#include "manifest/manifest.h"
#include "runtime/runtime_error.h"

namespace bricks::engine {

// A brick the manifest asked for, created with its params.
struct ManifestBrick {
  bricks_kind kind{};
  std::string name;
  const host::BrickInstance* instance = nullptr;
  std::vector<int32_t> layers;  // the manifest's `layers` (pruners, routers)
};

struct RuntimeOptions {
  int32_t threads = -1;             // overrides device.threads when >= 0
  std::filesystem::path model;      // overrides model.path when set
  std::filesystem::path model_dir;  // where builtin models are kept (default: ./models)
  // host::LoadOptions::allow_group_writable: plugins their group may write are loaded.
  bool allow_group_writable_plugins = false;
};

// The file a builtin model lives in: <dir>/<preset>-<dtype>.gguf. Made with
// `make-model` semantics when absent (with a progress line on stderr).
std::filesystem::path ensure_builtin_model(const std::string& preset, const std::string& dtype,
                                           const std::filesystem::path& dir);

class Runtime {
 public:
  // Throws RuntimeError with a clear message; manifest problems are reported as the
  // validator's diagnostics in the message, one per line.
  // A router brick over a dense model without a saved neuron partition first calibrates
  // one on a dense engine of the same bricks (routed_ffn_setup.h), then builds this one.
  static std::unique_ptr<Runtime> create(const manifest::LoadedManifest& m,
                                         const RuntimeOptions& options);
  ~Runtime();

  Engine& engine() { return *engine_; }
  // The model file (cpu device); the sim device has none.
  const model::Model* model() const { return model_.get(); }
  const LlamaWeights& weights() const { return weights_; }
  // The tokenizer for text prompts and output; nullptr on the sim device.
  const model::Tokenizer* tokenizer() const;
  int32_t vocab_size() const { return engine_->model().config.vocab_size; }
  const std::string& bricks_summary() const { return bricks_summary_; }
  const std::string& device_summary() const { return device_summary_; }

 private:
  Runtime() = default;
  // Creates the manifest's bricks (routers too unless `dense`) and wires them to the kv
  // brick. Returns the scheduler and kv; sets *attention and *adapter (null: none).
  EngineBricks create_bricks(const manifest::LoadedManifest& m, bool dense,
                             const host::BrickInstance** attention,
                             const host::BrickInstance** adapter);
  // What the cpu engine is built from beside the manifest.
  struct CpuEngineParts {
    EngineBricks bricks;
    const host::BrickInstance* attention = nullptr;
    const host::BrickInstance* adapter = nullptr;  // null: no adapters
    int32_t threads = 1;
    std::string compute;  // "f32" or "bf16"
    std::filesystem::path model_path;
  };
  // The cpu device and the engine over the created bricks, with `routed` FFNs, pruners and
  // the adapter hook; sets device_summary_.
  void build_cpu_engine(const manifest::LoadedManifest& m, const CpuEngineParts& parts,
                        RoutedFfns routed);
  // Drops the engine and the bricks (the registry, model and weights stay).
  void release_engine();
  std::unique_ptr<host::Registry> registry_;
  std::unique_ptr<model::Model> model_;
  LlamaWeights weights_;
  std::unique_ptr<WeightStream> stream_;  // layers read from disk; before engine_, which uses it
  std::vector<std::unique_ptr<host::BrickInstance>> bricks_;
  std::vector<ManifestBrick> created_;
  std::unique_ptr<Engine> engine_;
  std::string bricks_summary_, device_summary_;
};

}  // namespace bricks::engine
