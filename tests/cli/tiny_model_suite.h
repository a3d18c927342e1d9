// A CLI test suite that works in its own temp dir beside the tiny f32 model, made once per
// suite with `bricks make-model`.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_run.h"
#include "scratch_dir.h"

namespace bricks::testing {

class TinyModelSuite : public ::testing::Test {
 protected:
  // Call from SetUpTestSuite: makes tiny.gguf in this process's scratch directory `name`.
  static void make_dir_with_tiny_model(const std::string& name) {
    dir_ = scratch_dir(name);
    CliResult r = run_bricks("make-model --preset tiny --dtype f32 --out '" +
                             (dir_ / "tiny.gguf").string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Writes `text` to dir_/name and returns the path.
  static std::filesystem::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  inline static std::filesystem::path dir_;
};

}  // namespace bricks::testing
