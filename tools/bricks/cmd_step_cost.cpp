// `bricks step-cost MANIFEST`: the sim device's modelled step times for the manifest's GPU,
// model, tensor parallelism and cost constants, on batch shapes given on the command line:
// decode batches alone and with one prompt in them (the stall a whole prefill adds), and
// prompts alone, whole and in chunks. The per-step numbers behind the experiments.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "manifest_input.h"
#include "runtime/sim_setup.h"

namespace bricks::cli {
namespace {

struct StepCostArgs {
  std::string manifest;
  std::vector<int32_t> decodes{1, 16, 64, 128, 256};
  int64_t context = 1024;
  std::vector<int32_t> prompts{128, 512, 2048};
  int32_t chunk = 0;
};

// One step: `decodes` sequences at `context` tokens of KV, plus a prompt (chunk) of
// `prompt` tokens ending at `prompt_context` when prompt > 0.
double step_ms(const sim::CostModel& m, int32_t decodes, int64_t context, int32_t prompt,
               int64_t prompt_context) {
  std::vector<sim::SeqWork> seqs(static_cast<size_t>(decodes), sim::SeqWork{1, context});
  int32_t rows = decodes;
  if (prompt > 0) {
    seqs.push_back({prompt, prompt_context});
    ++rows;
  }
  return m.step(seqs, rows).total_s * 1e3;
}

int run_step_cost(const StepCostArgs& a) {
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;
  if (m->proto.device().kind() != "sim") {
    std::fprintf(stderr,
                 "error: %s: device.kind is \"%s\"; step-cost prints the sim device's cost model: "
                 "give a manifest with device.kind \"sim\"\n",
                 a.manifest.c_str(), m->proto.device().kind().c_str());
    return kExitFailure;
  }
  engine::SimSetup sim;
  try {
    sim = engine::make_sim_setup(*m);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  const sim::CostModel& cost = sim.device->cost_model();
  std::printf("%s\n", sim.summary.c_str());
  std::printf("\ndecode steps at a context of %lld tokens, alone and with one whole prompt\n",
              static_cast<long long>(a.context));
  std::printf("%8s %10s", "decodes", "alone ms");
  for (int32_t p : a.prompts)
    std::printf(" %16s", ("+" + std::to_string(p) + " prompt ms").c_str());
  std::printf("\n");
  for (int32_t d : a.decodes) {
    const double alone = step_ms(cost, d, a.context, 0, 0);
    std::printf("%8d %10.2f", d, alone);
    for (int32_t p : a.prompts) {
      const double with = step_ms(cost, d, a.context, p, p);
      char cell[40];
      std::snprintf(cell, sizeof cell, "%.2f (+%.2f)", with, with - alone);
      std::printf(" %16s", cell);
    }
    std::printf("\n");
  }
  std::printf("\nprompts alone\n%8s %10s %12s", "tokens", "whole ms", "tokens/s");
  if (a.chunk > 0)
    std::printf(" %18s", ("in " + std::to_string(a.chunk) + "-token chunks ms").c_str());
  std::printf("\n");
  for (int32_t p : a.prompts) {
    const double whole = step_ms(cost, 0, 0, p, p);
    std::printf("%8d %10.2f %12.0f", p, whole, p / whole * 1e3);
    if (a.chunk > 0) {
      double chunked = 0;
      for (int32_t done = 0; done < p;) {
        const int32_t c = std::min(a.chunk, p - done);
        done += c;
        chunked += step_ms(cost, 0, 0, c, done);
      }
      std::printf(" %18.2f", chunked);
    }
    std::printf("\n");
  }
  return kExitOk;
}

void add_step_cost_flags(CLI::App* cmd, StepCostArgs* args) {
  cmd->add_option("manifest", args->manifest, "Manifest with device.kind \"sim\"")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--decodes", args->decodes, "Decode batch sizes, one row each")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--context", args->context, "Tokens of KV each decoding sequence attends to")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--prompts", args->prompts,
                  "Prompt lengths: a column each (added to the decode batch) and a row each "
                  "(alone)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--chunk", args->chunk,
                  "Also time each prompt split into chunks of this many tokens (chunked "
                  "prefill: Sarathi, SplitFuse)")
      ->check(CLI::PositiveNumber);
  cmd->footer(
      "Times come from the cost model the sim device charges (docs/cost-model.md): the "
      "manifest's gpu, sim_model, tensor_parallel, cost_model or calibration_file. Exit "
      "code: 0 printed, 1 not a sim manifest or a bad device section, 3 the manifest could "
      "not be read.");
}

const Command kStepCost{"step-cost", 57,
                        "Print the sim device's modelled step times for decode batches with and "
                        "without a prompt in them, and for prompts whole or chunked",
                        add_step_cost_flags, run_step_cost};

}  // namespace
}  // namespace bricks::cli
