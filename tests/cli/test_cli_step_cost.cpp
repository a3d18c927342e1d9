// `bricks step-cost` end to end: the table of modelled step times for a sim manifest (a
// prompt makes a decode step longer, the same prompt in chunks costs no less than whole),
// and the errors users meet.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliStepCost : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { dir_ = scratch_dir("bricks-cli-step-cost"); }
  static std::string manifest(const std::string& device) {
    return "name: \"step cost\"\ndevice { " + device +
           " }\n"
           "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
           "bricks { kind: \"kv\" name: \"paged\" }\n"
           "bricks { kind: \"attention\" name: \"reference\" }\n"
           "workload { generator { num_requests: 1 prompt_len_min: 8 prompt_len_max: 8 "
           "output_len_min: 2 output_len_max: 2 } }\n";
  }
};

// The numbers of the line that starts with `first` (its first field), in order; "(+x)"
// cells give x.
std::vector<double> row(const std::string& out, const std::string& first) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string w;
    if (!(words >> w) || w != first) continue;
    std::vector<double> v;
    while (words >> w) {
      if (w.front() == '(') w = w.substr(2, w.size() - 3);  // "(+12.34)"
      v.push_back(std::stod(w));
    }
    return v;
  }
  return {};
}

TEST_F(CliStepCost, APromptLengthensADecodeStepAndChunksCostNoLess) {
  const fs::path m = write("sim.textproto",
                           manifest("kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\""));
  CliResult r = run_bricks(
      "step-cost --decodes 1,64 --context 512 --prompts 256,2048 --chunk 512 '" + m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("llama-2-7b on 1x a100-80gb"), std::string::npos) << r.out;
  for (const char* decodes : {"1", "64"}) {
    // alone, then (with, added) for each prompt
    const std::vector<double> v = row(r.out, decodes);
    ASSERT_EQ(v.size(), 5u) << r.out;
    EXPECT_GT(v[0], 0);
    EXPECT_NEAR(v[1], v[0] + v[2], 0.011) << r.out;
    EXPECT_GT(v[2], 0) << r.out;
    EXPECT_GT(v[4], v[2]) << "a longer prompt adds more\n" << r.out;
  }
  // Prompts alone: tokens, whole ms, tokens/s, chunked ms.
  const std::vector<double> whole = row(r.out, "2048");
  ASSERT_EQ(whole.size(), 3u) << r.out;
  EXPECT_NEAR(whole[1], 2048 / whole[0] * 1e3, 1.0) << r.out;
  EXPECT_GE(whole[2], whole[0]) << r.out;
  // A prompt no longer than a chunk is one step either way.
  const std::vector<double> one = row(r.out, "256");
  ASSERT_EQ(one.size(), 3u) << r.out;
  EXPECT_DOUBLE_EQ(one[2], one[0]) << r.out;
}

TEST_F(CliStepCost, ACpuManifestOrABadPresetIsOneErrorNamingTheFix) {
  const fs::path cpu = write("cpu.textproto", manifest("kind: \"cpu\""));
  CliResult r = run_bricks("step-cost '" + cpu.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("give a manifest with device.kind \"sim\""), std::string::npos) << r.err;
  const fs::path bad =
      write("bad.textproto", manifest("kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-9\""));
  r = run_bricks("step-cost '" + bad.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("device.sim_model"), std::string::npos) << r.err;
  r = run_bricks("step-cost --decodes 0 '" + bad.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace bricks::testing
