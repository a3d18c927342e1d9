// The `bricks` command line: list, inspect and validate plugins and manifests; make models;
// run and benchmark workloads.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"
#include "interrupt.h"
#include "manifest/did_you_mean.h"
#include "openmp_policy.h"

namespace bricks::cli {

Command::Command(std::string n, int o, std::function<void(CLI::App&, int&)> f, Work w)
    : name(std::move(n)), order(o), add(std::move(f)), work(w) {
  commands().push_back(this);
}

std::vector<const Command*>& commands() {
  static std::vector<const Command*> all;
  return all;
}

namespace {

// The first word of the command line that is not a top-level option (the command's name, if
// the line is well formed); empty if there is none.
std::string first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return "";
    if (arg == "--log-level") {
      ++i;  // its value
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return arg;
  }
  return "";
}

// first_word when it names no subcommand; empty otherwise. CLI11 would act on a `--help` after
// it and exit 0, so an unknown command is caught before parsing: it is a usage error whatever
// follows.
std::string unknown_command(int argc, char** argv, const CLI::App& app) {
  const std::string word = first_word(argc, argv);
  if (word.empty()) return "";
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->check_name(word)) return "";
  }
  return word;
}

// Whether the command line names a command that runs forward passes. Only those restart
// themselves for the OpenMP wait policy: the others (list, validate, inspect, --help ...)
// would pay a second process start for nothing.
bool runs_forward_passes(int argc, char** argv) {
  const std::string word = first_word(argc, argv);
  return std::any_of(commands().begin(), commands().end(), [&](const Command* c) {
    return c->name == word && c->work == Work::kForwardPasses;
  });
}

// "did you mean 'run'?" or the way to the list of commands.
std::string command_fix(const std::string& word, const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (auto close = bricks::manifest::closest_match(word, names)) {
    return "did you mean '" + *close + "'?";
  }
  return "run 'bricks --help' for the commands";
}

}  // namespace

}  // namespace bricks::cli

int main(int argc, char** argv) {
  using namespace bricks::cli;
  if (runs_forward_passes(argc, argv)) make_openmp_threads_sleep_when_idle(argv);
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
  app.parse_complete_callback([&] {
    spdlog::set_level(spdlog::level::from_str(level));
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    spdlog::debug("OpenMP wait policy: {}",
                  policy != nullptr ? policy : "unset (libgomp's default)");
  });

  int exit_code = kExitOk;
  std::vector<const Command*> sorted = commands();
  std::sort(sorted.begin(), sorted.end(),
            [](const Command* a, const Command* b) { return a->order < b->order; });
  for (const Command* c : sorted) c->add(app, exit_code);

  if (const std::string word = unknown_command(argc, argv, app); !word.empty()) {
    std::fprintf(stderr, "bricks: unknown command '%s'; %s\n", word.c_str(),
                 command_fix(word, app).c_str());
    return kExitUsage;
  }
  install_interrupt_handlers();
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
