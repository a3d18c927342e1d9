// `bricks make-adapter`: writes a deterministic random LoRA adapter for a model shape, as a
// GGUF LoRA file or a PEFT directory (the fixtures of manifests/lora.textproto).
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "bricks/model/make_adapter.h"
#include "command.h"
#include "interrupt.h"

namespace bricks::cli {
namespace {

struct MakeAdapterArgs {
  std::string preset = "tiny";
  std::string model;
  std::string format = "gguf";
  std::string dtype = "f32";
  std::string targets = "attn_q,attn_v";
  std::vector<int32_t> layers;
  int32_t rank = 8;
  float alpha = 16.f;
  float stddev = 0.02f;
  uint64_t seed = 0;
  std::string out;
  bool force = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int run_make_adapter(const MakeAdapterArgs& a) {
  namespace bm = bricks::model;
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec) && !a.force) {
    std::fprintf(stderr, "error: %s exists; pass --force to overwrite it\n", a.out.c_str());
    return kExitUsage;
  }
  try {
    bm::MakeAdapterOptions o;
    o.base = a.model.empty() ? bm::preset_config(a.preset) : bm::Model::open(a.model)->config();
    o.rank = a.rank;
    o.alpha = a.alpha;
    o.targets = split(a.targets);
    o.layers = a.layers;
    o.format = a.format;
    o.dtype = *bm::dtype_from_name(a.dtype.c_str());
    o.stddev = a.stddev;
    o.seed = a.seed;
    o.out = a.out;
    // A signal half-way removes what was written (a GGUF file, or peft's two files).
    const std::filesystem::path out(a.out);
    PartialOutput gguf(out), weights(out / "adapter_model.safetensors"),
        config(out / "adapter_config.json");
    bm::make_adapter(o);
    std::printf("wrote %s (%s, rank %d, alpha %g, targets %s, for %s)\n", a.out.c_str(),
                a.format.c_str(), a.rank, static_cast<double>(a.alpha), a.targets.c_str(),
                a.model.empty() ? ("preset " + a.preset).c_str() : a.model.c_str());
  } catch (const bm::ModelError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
  return kExitOk;
}

void add_make_adapter_flags(CLI::App* cmd, MakeAdapterArgs* args) {
  cmd->add_option("--preset", args->preset, "Model shape: tiny, small, 1b, moe-tiny, micro")
      ->check(CLI::IsMember(bricks::model::model_presets()))
      ->capture_default_str();
  cmd->add_option("--model", args->model, "Take the shape from this model file instead")
      ->check(CLI::ExistingPath);
  cmd->add_option("--format", args->format,
                  "gguf (one file) or peft (a directory with "
                  "adapter_config.json and adapter_model.safetensors)")
      ->check(CLI::IsMember({"gguf", "peft"}))
      ->capture_default_str();
  cmd->add_option("--dtype", args->dtype, "Element type: f32, f16, bf16")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--targets", args->targets,
                  "Comma-separated projections: attn_q, attn_k, attn_v, attn_output, "
                  "ffn_gate, ffn_up, ffn_down")
      ->capture_default_str();
  cmd->add_option("--layers", args->layers, "Layers to adapt (default: all)");
  cmd->add_option("--rank", args->rank, "LoRA rank")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--alpha", args->alpha, "LoRA alpha (scale = alpha / rank)")
      ->capture_default_str();
  cmd->add_option("--stddev", args->stddev, "Standard deviation of the A and B values")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "PRNG seed (same seed, same adapter)")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output file (gguf) or directory (peft)")->required();
  cmd->add_flag("--force", args->force, "Overwrite an existing output");
}

const Command kMakeAdapter{"make-adapter", 41,
                           "Write a deterministic random LoRA adapter (GGUF LoRA file or PEFT "
                           "directory) for a model shape",
                           add_make_adapter_flags, run_make_adapter};

}  // namespace
}  // namespace bricks::cli
