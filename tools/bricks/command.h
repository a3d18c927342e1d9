// Subcommands of the `bricks` CLI register themselves here: each cmd_*.cpp defines one
// static bricks::cli::Command, whose `add` adds a CLI11 subcommand and its callback.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bricks::cli {

// Stable exit codes of the CLI.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // the command ran and found problems (e.g. an invalid manifest)
  kExitUsage = 2,       // bad command line
  kExitInputError = 3,  // a file could not be read or parsed
};

// What a command's work needs of the process.
enum class Work {
  kLight,          // no model forward passes
  kForwardPasses,  // runs a model on the CPU: oneDNN's OpenMP threads take part (the CLI
                   // restarts itself once to make them sleep when idle, openmp_policy.h)
};

struct Command {
  std::string name;
  int order;  // position in `bricks --help`
  std::function<void(CLI::App& app, int& exit_code)> add;
  Work work;
  Command(std::string n, int o, std::function<void(CLI::App&, int&)> f, Work w = Work::kLight);

  // The common case: subcommand `n` with help text `help`, whose flags `add_flags(cmd, args)`
  // fills one Args and whose exit status is `run(args)`. The Args lives as long as the app.
  template <class Args>
  Command(std::string n, int o, std::string help, void (*add_flags)(CLI::App*, Args*),
          int (*run)(const Args&), Work w = Work::kLight)
      : Command(
            n, o,
            [n, help, add_flags, run](CLI::App& app, int& exit_code) {
              auto args = std::make_shared<Args>();
              CLI::App* cmd = app.add_subcommand(n, help);
              add_flags(cmd, args.get());
              cmd->callback([args, run, &exit_code] { exit_code = run(*args); });
            },
            w) {}
};

std::vector<const Command*>& commands();

}  // namespace bricks::cli
