// The `bricks` command line: list, inspect and validate plugins and manifests; make models;
// run and benchmark workloads.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <CLI/CLI.hpp>

#include "command.h"

namespace bricks::cli {

Command::Command(std::string n, int o, std::function<void(CLI::App&, int&)> f)
    : name(std::move(n)), order(o), add(std::move(f)) {
  commands().push_back(this);
}

std::vector<const Command*>& commands() {
  static std::vector<const Command*> all;
  return all;
}

}  // namespace bricks::cli

int main(int argc, char** argv) {
  using namespace bricks::cli;
  auto logger = spdlog::stderr_color_mt("bricks");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{"bricks: a modular LLM inference runtime.\n"
               "Lists, inspects and validates brick plugins and manifests; makes models; runs "
               "and benchmarks workloads."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bricks " BRICKS_VERSION);
  std::string level = "warn";
  app.add_option("--log-level", level, "Log level on stderr: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(level)); });

  int exit_code = kExitOk;
  std::vector<const Command*> sorted = commands();
  std::sort(sorted.begin(), sorted.end(),
            [](const Command* a, const Command* b) { return a->order < b->order; });
  for (const Command* c : sorted) c->add(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  return exit_code;
}
