// `bricks merge MANIFEST --out merged.gguf`: merges the manifest's model.merge checkpoints
// through its merger brick and writes the result as one GGUF file, which runs anywhere a
// model file does (model.path) without merging again.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "bricks/model/model_overlay.h"
#include "command.h"
#include "cpu/threads.h"
#include "host/registry.h"
#include "interrupt.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "plugin_scan.h"
#include "runtime/merge_checkpoints.h"

namespace bricks::cli {
namespace {

struct MergeArgs {
  std::string manifest;
  std::string out;
  int threads = 0;
  bool force = false;
  bool allow_group_writable_plugins = false;
};

int run_merge(const MergeArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a.out, ec) && !a.force) {
    std::fprintf(stderr, "error: %s exists; pass --force to overwrite it\n", a.out.c_str());
    return kExitUsage;
  }
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;
  if (!m->proto.model().has_merge()) {
    std::fprintf(stderr,
                 "error: %s has no model.merge section; add the checkpoints to merge "
                 "(see manifests/merge.textproto)\n",
                 a.manifest.c_str());
    return kExitFailure;
  }
  try {
    host::LoadOptions lo;
    lo.search_path = host::plugin_search_path(manifest::manifest_plugin_paths(*m));
    lo.sha256_pins = manifest::manifest_pins(*m);
    lo.allow_group_writable = a.allow_group_writable_plugins;
    host::Registry registry(lo);
    std::vector<manifest::Diagnostic> diags;
    if (!manifest::validate_manifest(*m, registry.catalogue(), diags)) {
      for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.format().c_str());
      return kExitFailure;
    }
    if (a.threads > 0) cpu::set_num_threads(a.threads);
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<model::Model> merged = engine::merge_from_manifest(*m, registry);
    const engine::MergePlan plan = engine::merge_plan(*m);
    if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path());
    PartialOutput partial(fs::path(a.out + ".partial"));  // write_model_gguf's own name
    model::write_model_gguf(*merged, plan.checkpoints[0], a.out);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %s: %zu checkpoints merged, %zu tensors, %.1f MiB, %.2f s\n", a.out.c_str(),
                plan.checkpoints.size(), merged->tensors().size(),
                static_cast<double>(merged->weight_bytes()) / (1024.0 * 1024.0), secs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}

void add_merge_flags(CLI::App* cmd, MergeArgs* args) {
  cmd->add_option("manifest", args->manifest, "Manifest with model.merge and a merger brick")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output .gguf file")->required();
  cmd->add_option("--threads", args->threads, "Threads merging tensors (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--force", args->force, "Overwrite an existing output file");
  add_plugin_trust_flag(cmd, args->allow_group_writable_plugins);
  cmd->footer(
      "The first checkpoint must be a GGUF file: its metadata and tokenizer go into "
      "the output. Exit code: 0 written, 1 invalid manifest or merge error, 2 the "
      "output exists, 3 the manifest could not be read.");
}

const Command kMerge{"merge", 45,
                     "Merge the checkpoints of a manifest's model.merge with its merger brick and "
                     "write the merged model as GGUF",
                     add_merge_flags, run_merge};

}  // namespace
}  // namespace bricks::cli
