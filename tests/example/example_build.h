// Builds sdk/examples/minimal the way a brick author would: installs this build's SDK into
// a temporary prefix, configures the example with find_package(BricksSDK) and builds it.
// Shared by the example's suites; needs BRICKS_CMAKE, BRICKS_CMAKE_GENERATOR and
// BRICKS_CMAKE_MAKE_PROGRAM defined by the build.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.h"

namespace bricks::host::example {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Single-quoted for the shell (appended in steps: g++ 12 warns falsely on "'" + s + "'").
inline std::string q(const fs::path& p) {
  std::string out(1, '\'');
  out += p.string();
  out += '\'';
  return out;
}

// Runs `command`, its output in `log`; on failure records the command and the output.
inline bool run(const std::string& command, const fs::path& log) {
  int status = std::system((command + " >" + q(log) + " 2>&1").c_str());
  if (status == 0) return true;
  ADD_FAILURE() << "command failed (status " << status << "):\n  " << command << "\n" << slurp(log);
  return false;
}

// Installs the SDK and builds the example; returns the directory holding the .so ("" on
// failure, with the reason recorded).
inline fs::path build_example(const testing::TempDir& tmp, const std::string& extra_args) {
  const fs::path prefix = tmp / "prefix";
  if (!run(std::string(BRICKS_CMAKE) + " --install " + q(fs::path(BRICKS_BINARY_DIR) / "sdk") +
               " --prefix " + q(prefix),
           tmp / "install.log")) {
    return {};
  }
  const fs::path build = tmp / "build";
  std::string configure =
      std::string(BRICKS_CMAKE) + " -S " + q(fs::path(BRICKS_SOURCE_DIR) / "sdk/examples/minimal") +
      " -B " + q(build) + " -G '" BRICKS_CMAKE_GENERATOR "'" +
      " -DCMAKE_MAKE_PROGRAM='" BRICKS_CMAKE_MAKE_PROGRAM "'" +
      " -DCMAKE_PREFIX_PATH=" + q(prefix) + " -DCMAKE_BUILD_TYPE=Release " + extra_args;
  if (!run(configure, tmp / "configure.log")) return {};
  if (!run(std::string(BRICKS_CMAKE) + " --build " + q(build), tmp / "build.log")) return {};
  if (!fs::exists(build / "libsimple_fcfs.so")) {
    ADD_FAILURE() << "the build made no libsimple_fcfs.so in " << build;
    return {};
  }
  return build;
}

}  // namespace bricks::host::example
