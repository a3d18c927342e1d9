// A model quantized by llama.cpp gives, greedily, the tokens llama.cpp gives on it.
//
// tests/data/peer/micro-mixed.gguf holds every block type Bricks reads (q4_0, q4_1, q5_0,
// q5_1, q8_0, q4_K, q5_K, q6_K), each matrix quantized by llama.cpp's llama-quantize;
// micro-mixed.golden holds llama.cpp's greedy continuations of a few prompts on it
// (make_mixed_quant.py in that folder made both). The SIMD kernel levels must write the same
// bytes. The portable level adds the same integer block products in another float order,
// which on these random weights flips one near-tie (two tokens 0.0002 nats apart, in
// "She said hello" at token 10); its kernels are checked against a double-precision reference in
// tests/cpu/test_cpu_quant_dot.cpp instead.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cli_run.h"

namespace bricks::testing {
namespace {

const std::string kDir = BRICKS_SOURCE_DIR "/tests/data/peer/";

// (prompt, continuation) pairs of the golden file, after its '#' header.
std::vector<std::pair<std::string, std::string>> golden() {
  std::ifstream in(kDir + "micro-mixed.golden", std::ios::binary);
  std::vector<std::pair<std::string, std::string>> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    cases.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return cases;
}

// The continuation `bricks generate` writes for `prompt` (its stdout is the prompt, the
// new text and a newline).
std::string continuation(const std::string& prompt, int tokens) {
  const CliResult r = run_bricks("generate --model '" + kDir + "micro-mixed.gguf' -n " +
                                 std::to_string(tokens) + " -p '" + prompt + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string out = r.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  if (out.rfind(prompt, 0) != 0) return "(output does not start with the prompt) " + out;
  return out.substr(prompt.size());
}

class PeerGolden : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { setenv("BRICKS_CPU_ISA", GetParam(), 1); }
  void TearDown() override { unsetenv("BRICKS_CPU_ISA"); }
};

TEST_P(PeerGolden, GreedyTextMatchesLlamaCpp) {
  const auto cases = golden();
  ASSERT_EQ(cases.size(), 4u) << "the golden file " << kDir << "micro-mixed.golden is incomplete";
  for (const auto& [prompt, expect] : cases) {
    EXPECT_EQ(continuation(prompt, 24), expect) << "prompt '" << prompt << "'";
  }
}

// The level is an upper bound: a CPU without AVX-512 runs its best level under "avx512".
INSTANTIATE_TEST_SUITE_P(Isa, PeerGolden, ::testing::Values("avx2", "avx512"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.param);
                         });

}  // namespace
}  // namespace bricks::testing
