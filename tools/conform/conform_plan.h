// What bricks-conform will run: the chosen bricks of the plugin, each as a case of its
// kind's conformance suite, with the shipped bricks the suites pair them with.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "conform_args.h"
#include "conformance_case.h"
#include "host/catalogue.h"
#include "host/plugin_paths.h"
#include "pruning_conformance.h"
#include "scheduler_conformance.h"

namespace bricks::conform {

// The limits a scheduler's plans are checked against when it declares no param of that name.
constexpr int32_t kDefaultMaxNumSeqs = 256;
constexpr int32_t kDefaultMaxNumBatchedTokens = 2048;

// One brick of the plugin as its kind's suite takes it; the case of its kind is filled.
struct BrickRun {
  host::BrickInfo brick;
  std::string title;  // "scheduler/simple_fcfs"
  std::string setup;  // what the suite pairs it with and checks it against; "" if nothing
  testing::BrickCase brick_case;
  testing::SchedulerCase scheduler_case;
  testing::PruningCase pruning_case;
};

struct ConformPlan {
  std::filesystem::path plugin;              // absolute
  std::vector<BrickRun> runs;                // in the plugin's order
  std::vector<std::filesystem::path> files;  // where the harness finds bricks: the plugin first
};

// Loads the plugin (in a child process), picks its bricks, checks the --param values against
// their specs and finds the partners their suites need on `options.search_path`. Throws
// UsageError with one line for a file that is missing, refused or does not load (the
// loader's reason), no brick matching --kind/--brick, a bad --param, or a missing partner.
ConformPlan make_plan(const ConformArgs& args, const host::LoadOptions& options);

// Makes `run` the only case of its kind's suite, and every other suite's list empty.
void select_for_suite(const BrickRun& run);

}  // namespace bricks::conform
