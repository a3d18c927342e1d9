// `bricks partition [MANIFEST] [--model FILE]`: calibrates the neuron partition of a dense
// model (run it on prompts, cluster co-active FFN neurons) and writes it beside the model
// as <model>.partition, where a neuron_partition router finds it at run time.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "command.h"
#include "engine/neuron_calibrate.h"
#include "engine/neuron_partition_file.h"
#include "interrupt.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "plugin_scan.h"
#include "runtime/runtime.h"

namespace bricks::cli {
namespace {

struct PartitionArgs {
  std::string manifest, model, prompts, out;
  int threads = -1;
  bool allow_group_writable_plugins = false;
  engine::CalibrationOptions calib;
};

// Without a manifest: the model on fcfs + paged + cpu_paged, which is all a calibration
// run needs.
manifest::LoadedManifest default_manifest(const std::string& model) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<bricks partition>";
  m.proto.set_name("partition calibration");
  m.proto.mutable_model()->set_path(model);
  m.proto.mutable_device()->set_kind("cpu");
  const std::pair<const char*, const char*> bricks[] = {
      {"scheduler", "fcfs"}, {"kv", "paged"}, {"attention", "cpu_paged"}};
  for (const auto& [kind, name] : bricks) {
    auto* b = m.proto.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
  }
  return m;
}

int run_partition(const PartitionArgs& given) {
  PartitionArgs a = given;
  std::optional<manifest::LoadedManifest> m;
  if (!a.manifest.empty()) {
    m = load_manifest_reporting(a.manifest);
    if (!m) return kExitInputError;
    auto* bricks = m->proto.mutable_bricks();
    for (int i = bricks->size() - 1; i >= 0; --i) {
      if (bricks->Get(i).kind() == "router") bricks->DeleteSubrange(i, 1);
    }
  } else if (a.model.empty()) {
    std::fprintf(stderr, "error: give a manifest or --model FILE\n");
    return kExitUsage;
  } else {
    m = default_manifest(a.model);
  }
  if (!a.prompts.empty()) {
    std::ifstream in(a.prompts);
    if (!in) {
      std::fprintf(stderr, "error: cannot read the prompt file %s\n", a.prompts.c_str());
      return kExitInputError;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) a.calib.prompts.push_back(line);
    }
    if (a.calib.prompts.empty()) {
      std::fprintf(stderr, "error: %s has no prompts (one per line)\n", a.prompts.c_str());
      return kExitInputError;
    }
  }
  engine::RuntimeOptions ro;
  ro.threads = a.threads;
  ro.model = a.model;
  ro.allow_group_writable_plugins = a.allow_group_writable_plugins;
  try {
    auto rt = engine::Runtime::create(*m, ro);
    engine::CalibrationResult r = engine::calibrate_partition(
        rt->engine(), rt->weights(), rt->tokenizer(), a.calib,
        [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
    r.partition.model_checksum = engine::model_checksum(*rt->model());
    const std::filesystem::path out = a.out.empty()
                                          ? engine::partition_path_for(rt->model()->path())
                                          : std::filesystem::path(a.out);
    PartialOutput partial(std::filesystem::path(out.string() + ".tmp"));  // save_partition's
    engine::save_partition(r.partition, out);
    std::printf("wrote %s: %d clusters x %d layers from %d tokens per layer\n", out.c_str(),
                r.partition.clusters, static_cast<int>(r.partition.layers.size()), r.tokens);
    std::printf("neurons holding 90%% of the activation mass: %.1f %% (mean per token)\n",
                100.0 * r.mass90_share);
    std::printf("active share inside an active cluster: %.3f (%.3f for a random grouping)\n",
                r.cluster_purity, a.calib.active_share);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}

void add_partition_flags(CLI::App* cmd, PartitionArgs* args) {
  cmd->add_option("manifest", args->manifest, "Manifest whose model and bricks to use")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", args->model, "Model file (instead of the manifest's)");
  cmd->add_option("--clusters", args->calib.clusters, "Clusters per FFN layer")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--active-share", args->calib.active_share,
                  "Share of neurons counted active per token (by |silu(gate) * up|)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 0.999));
  cmd->add_option("--tokens", args->calib.max_tokens, "Calibration tokens per layer")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--iterations", args->calib.iterations, "k-means rounds")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--prompts", args->prompts,
                  "Prompt file, one prompt per line (default: "
                  "builtin English prose)");
  cmd->add_option("--out", args->out, "Where to write (default: <model>.partition)");
  cmd->add_option("--threads", args->threads, "Worker threads (0 = all cores)");
  add_plugin_trust_flag(cmd, args->allow_group_writable_plugins);
}

const Command kPartition{
    "partition",
    55,
    "Calibrate the neuron partition of a dense model for the neuron_partition "
    "router: run prompts, cluster co-active FFN neurons, write <model>.partition",
    add_partition_flags,
    run_partition,
    Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
