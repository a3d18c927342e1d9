// `bricks calibrate` end to end: a grid of measured step times on the cpu device that the
// sim device loads as its calibration table, and the errors users meet.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

class CliCalibrate : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { make_dir_with_tiny_model("bricks-cli-calibrate"); }
  static std::string manifest(const std::string& device, const std::string& model) {
    return "name: \"calibrate\"\n" + model + "device { " + device +
           " }\n"
           "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
           "bricks { kind: \"kv\" name: \"paged\" }\n"
           "bricks { kind: \"attention\" name: \"cpu_paged\" }\n"
           "workload { generator { num_requests: 2 prompt_len_min: 8 prompt_len_max: 8 "
           "output_len_min: 2 output_len_max: 2 } }\n";
  }
  static std::string cpu_manifest() {
    return manifest("kind: \"cpu\" threads: 1 kv_cache_bytes: 8388608",
                    "model { path: \"tiny.gguf\" }\n");
  }
};

struct Row {
  int64_t prefill, decodes, context_sum;
  double seconds;
};

std::vector<Row> rows_of(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::vector<Row> rows;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      EXPECT_EQ(line, "num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds");
      header = true;
      continue;
    }
    Row r{};
    char comma;
    std::istringstream f(line);
    f >> r.prefill >> comma >> r.decodes >> comma >> r.context_sum >> comma >> r.seconds;
    rows.push_back(r);
  }
  return rows;
}

TEST_F(CliCalibrate, WritesAFullGridTheSimDeviceLoads) {
  write("cpu.textproto", cpu_manifest());
  CliResult r = run_bricks(
      "calibrate cpu.textproto --out grid.csv --prefill 0,16 --decodes 0,1,4 "
      "--context-sums 8,64 --repeats 1",
      dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote grid.csv: 12 steps on cpu, 1 threads"), std::string::npos) << r.out;
  const std::vector<Row> rows = rows_of(read_file(dir_ / "grid.csv"));
  ASSERT_EQ(rows.size(), 12u);
  std::map<std::tuple<int64_t, int64_t, int64_t>, double> grid;
  for (const Row& row : rows) {
    EXPECT_GT(row.seconds, 0.0);
    grid[{row.prefill, row.decodes, row.context_sum}] = row.seconds;
  }
  EXPECT_EQ(grid.size(), 12u);  // every combination once
  // Without decodes the context sum does not matter: one time, repeated.
  EXPECT_EQ(grid[std::make_tuple(16, 0, 8)], grid[std::make_tuple(16, 0, 64)]);

  // The sim device replays with it, and step-cost reads its times back.
  write("sim.textproto", manifest("kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\" "
                                  "calibration_file: \"grid.csv\"",
                                  ""));
  r = run_bricks("validate sim.textproto", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = run_bricks("step-cost sim.textproto --decodes 1,4 --context 8 --prompts 16", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("grid.csv"), std::string::npos) << r.out;
}

TEST_F(CliCalibrate, RefusesWhatItCannotMeasure) {
  write("cpu.textproto", cpu_manifest());
  write("sim-only.textproto",
        manifest("kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\"", ""));
  CliResult r = run_bricks("calibrate sim-only.textproto --out x.csv", dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("calibrate measures a device that computes the model"), std::string::npos)
      << r.err;
  r = run_bricks("calibrate cpu.textproto --out x.csv --decodes 4 --context-sums 2", dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--context-sums 2 cannot be shared by 4 decoding sequences"),
            std::string::npos)
      << r.err;
  r = run_bricks("calibrate cpu.textproto --out x.csv --prefill 4096", dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--prefill 4096 is beyond the model's context of 512 tokens"),
            std::string::npos)
      << r.err;
  // The grid needs more KV blocks than 8 MiB hold for 4 x 500 tokens.
  r = run_bricks(
      "calibrate cpu.textproto --out x.csv --prefill 0 --decodes 4 "
      "--context-sums 2000 --repeats 1",
      dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("KV blocks and the device has"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.csv"));
}

}  // namespace
}  // namespace bricks::testing
