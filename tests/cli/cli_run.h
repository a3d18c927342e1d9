// Runs the `bricks` binary and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scratch_dir.h"

namespace bricks::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as given (quote as for /bin/sh).
inline CliResult run_bricks(const std::string& args, const std::filesystem::path& cwd = {}) {
  static int counter = 0;
  const auto& dir = scratch_dir("bricks-cli");
  const auto out = dir / ("out" + std::to_string(counter) + ".txt");
  const auto err = dir / ("err" + std::to_string(counter++) + ".txt");
  std::string cmd;
  if (!cwd.empty()) cmd = "cd '" + cwd.string() + "' && ";
  cmd += std::string("'") + BRICKS_CLI + "' " + args + " >'" + out.string() + "' 2>'" +
         err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace bricks::testing
