// `bricks make-model`: writes a deterministic random-weight Llama model as GGUF.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "command.h"
#include "interrupt.h"
#include "progress.h"

namespace bricks::cli {
namespace {

struct MakeModelArgs {
  std::string preset = "tiny";
  std::string dtype = "f32";
  std::string out;
  uint64_t seed = 0;
  bool force = false;
};

int run_make_model(const MakeModelArgs& a) {
  namespace bm = bricks::model;
  const std::filesystem::path out(a.out);
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !a.force) {
    std::fprintf(stderr, "error: %s exists; pass --force to overwrite it\n", a.out.c_str());
    return kExitUsage;
  }
  bm::MakeModelOptions o;
  o.preset = a.preset;
  o.file_type = *bm::file_type_from_name(a.dtype);
  o.dtype = bm::file_type_base(*o.file_type);
  o.out = out;
  o.seed = a.seed;
  ProgressBar bar("make-model " + a.preset + " " + a.dtype);
  PartialOutput partial(std::filesystem::path(a.out + ".partial"));  // make_model's own name
  try {
    bm::make_model(o, [&](double f) { bar.update(static_cast<size_t>(f * 1000.0), 1000, ""); });
  } catch (const bm::ModelError& e) {
    bar.finish();
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
  bar.finish();
  const auto bytes = std::filesystem::file_size(out, ec);
  std::printf("wrote %s (%s, %s, %.1f MiB)\n", a.out.c_str(), a.preset.c_str(), a.dtype.c_str(),
              static_cast<double>(bytes) / (1024.0 * 1024.0));
  return kExitOk;
}

void add_make_model_flags(CLI::App* cmd, MakeModelArgs* args) {
  cmd->add_option(
         "--preset", args->preset,
         "Shape: tiny (stories15M), small (stories110M), 1b (TinyLlama-1.1B), 7b (Llama-2-7B), "
         "moe-tiny (tiny with 4 experts, 2 used), micro (2 layers of 256, for format checks)")
      ->check(CLI::IsMember(bricks::model::model_presets()))
      ->capture_default_str();
  std::vector<std::string> types;
  for (bricks::model::FileType t : bricks::model::kAllFileTypes) {
    types.push_back(bricks::model::file_type_name(t));
  }
  cmd->add_option("--dtype", args->dtype,
                  "Weight type: " + bricks::model::supported_file_types() +
                      ". The quantized ones mix tensor types as `bricks quantize` does "
                      "(see its --help and docs/quantization.md)")
      ->check(CLI::IsMember(types, CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output .gguf file")->required();
  cmd->add_option("--seed", args->seed, "PRNG seed (same seed, same bytes)")->capture_default_str();
  cmd->add_flag("--force", args->force, "Overwrite an existing output file");
}

const Command kMakeModel{
    "make-model", 40, "Write a deterministic random-weight Llama model (GGUF v3) of a preset shape",
    add_make_model_flags, run_make_model};

}  // namespace
}  // namespace bricks::cli
