// Subcommands of the `bricks` CLI register themselves here: each cmd_*.cpp defines one
// static bricks::cli::Command, whose `add` adds a CLI11 subcommand and its callback.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace bricks::cli {

// Stable exit codes of the CLI.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // the command ran and found problems (e.g. an invalid manifest)
  kExitUsage = 2,        // bad command line
  kExitInputError = 3,   // a file could not be read or parsed
};

struct Command {
  std::string name;
  int order;  // position in `bricks --help`
  std::function<void(CLI::App& app, int& exit_code)> add;
  Command(std::string n, int o, std::function<void(CLI::App&, int&)> f);
};

std::vector<const Command*>& commands();

}  // namespace bricks::cli
