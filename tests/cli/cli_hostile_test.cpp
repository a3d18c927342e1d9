// Hostile manifests through the CLI: what crashed or hung before is now one error line with
// file:line:col and the documented exit code (3: the file cannot be parsed; 1: it parses
// and is invalid), fast; an unknown command is a usage error whatever follows it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

// Bricks of the build tree's plugins, so that a case's own error is the only one.
const std::string kBricks =
    "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
    "bricks { kind: \"kv\" name: \"paged\" }\n"
    "bricks { kind: \"attention\" name: \"reference\" }\n";

fs::path write(const std::string& name, const std::string& text) {
  const fs::path file = scratch_dir("bricks-cli-hostile") / name;
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

// How many lines of `text` are `file:LINE:COL: error: ...`.
long error_lines(const std::string& text, const std::string& file) {
  const std::regex located("(^|\n)" + std::regex_replace(file, std::regex("\\."), "\\.") +
                           ":[0-9]+:[0-9]+: error: ");
  return std::distance(std::sregex_iterator(text.begin(), text.end(), located),
                       std::sregex_iterator());
}

std::string nested(int levels, const std::string& open, const std::string& close) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += open;
  for (int i = 0; i < levels; ++i) out += close;
  return out;
}

TEST(CliHostile, DeepTextNestingIsOneErrorNotACrash) {
  const fs::path m = write(
      "deep.textproto", "name: \"deep\"\nextra { " + nested(15000, "a { ", "} ") + "}\n" + kBricks);
  for (const char* cmd : {"validate", "run --no-progress"}) {
    CliResult r = run_bricks(std::string(cmd) + " '" + m.string() + "'");
    EXPECT_EQ(r.exit_code, 3) << cmd << "\n" << r.err;
    const std::string& shown = std::string(cmd) == "validate" ? r.out : r.err;
    EXPECT_EQ(error_lines(shown, m.string()), 1) << cmd << "\n" << shown;
    EXPECT_NE(shown.find(":2:407: error: syntax error: nesting deeper than 100 levels"),
              std::string::npos)
        << shown;
  }
}

TEST(CliHostile, DeepJsonNestingIsOneErrorNotACrash) {
  const fs::path m = write("deep.json", "{\"name\": " + nested(50000, "[", "]") + "}\n");
  for (const char* cmd : {"validate", "run --no-progress"}) {
    CliResult r = run_bricks(std::string(cmd) + " '" + m.string() + "'");
    EXPECT_EQ(r.exit_code, 3) << cmd << "\n" << r.err;
    const std::string& shown = std::string(cmd) == "validate" ? r.out : r.err;
    EXPECT_EQ(error_lines(shown, m.string()), 1) << cmd << "\n" << shown;
    EXPECT_NE(shown.find(":1:109: error: syntax error: nesting deeper than 100 levels"),
              std::string::npos)
        << shown;
  }
}

TEST(CliHostile, NanIsOneErrorAtItsFieldInValidateAndRun) {
  const fs::path m =
      write("nan.textproto", "device { kind: \"cpu\" }\n" + kBricks +
                                 "workload { generator { num_requests: 2 rate: nan "
                                 "prompt_len_min: 1 prompt_len_max: 4 output_len_min: 1 "
                                 "output_len_max: 2 } }\n");
  const std::string expected =
      m.string() + ":5:40: error: workload.generator.rate is NaN, not a finite number";
  CliResult v = run_bricks("validate '" + m.string() + "'");
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_EQ(error_lines(v.out, m.string()), 1) << v.out;
  EXPECT_NE(v.out.find(expected), std::string::npos) << v.out;
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
}

TEST(CliHostile, InvalidUtf8StillGivesAJsonReport) {
  const fs::path m =
      write("latin1.textproto", "name: \"caf\xe9\"\ndevice { kind: \"cpu\" }\n" + kBricks);
  CliResult r = run_bricks("validate --json '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << r.out;
  ASSERT_EQ(report["errors"], 1) << r.out;
  const nlohmann::json& d = report["files"][0]["diagnostics"][0];
  EXPECT_EQ(d["line"], 1);
  EXPECT_EQ(d["col"], 1);
  EXPECT_EQ(d["message"], "name is not valid UTF-8 (byte 0xe9 at offset 3)");
}

TEST(CliHostile, UnknownCommandIsAUsageErrorWhateverFollows) {
  for (const char* args : {"nosuch --help", "nosuch", "--log-level info nosuch -h"}) {
    CliResult r = run_bricks(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_EQ(r.err, "bricks: unknown command 'nosuch'; run 'bricks --help' for the commands\n")
        << args;
  }
  CliResult typo = run_bricks("valdiate --help");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err, "bricks: unknown command 'valdiate'; did you mean 'validate'?\n");
  // Known commands and the top-level options are unchanged.
  EXPECT_EQ(run_bricks("--log-level warn version").exit_code, 0);
  EXPECT_EQ(run_bricks("validate --help").exit_code, 0);
}

}  // namespace
}  // namespace bricks::testing
