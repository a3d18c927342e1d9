// The fit of the cost model's GEMM constants: measured CSVs read (and refused with their
// line), constants recovered from times the model made itself, and the shipped A100 cost
// preset against Vidur's measured A100 GEMMs (tests/data/vidur-a100).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "sim/cost_fit.h"
#include "sim/cost_presets.h"
#include "sim/gpu_presets.h"
#include "sim/preset_text.h"
#include "sim/sim_error.h"

namespace bricks::testing {
namespace {

const std::filesystem::path kData =
    std::filesystem::path(BRICKS_SOURCE_DIR) / "tests/data/vidur-a100";

std::vector<sim::LinearSample> vidur_samples() {
  std::vector<sim::LinearSample> all;
  for (const char* f :
       {"a100-Llama-2-7b-hf-mlp-median.csv", "a100-Llama-2-70b-hf-mlp-median.csv"}) {
    std::vector<sim::LinearSample> more = sim::load_linear_samples(kData / f);
    all.insert(all.end(), more.begin(), more.end());
  }
  return all;
}

std::string samples_error(const std::string& text) {
  const std::filesystem::path file =
      std::filesystem::path(::testing::TempDir()) / "bad_samples.csv";
  std::ofstream(file) << text;
  try {
    sim::load_linear_samples(file);
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "";
}

const char* kHeader =
    "num_tokens,tp,attn_pre_proj_ms,attn_post_proj_ms,mlp_up_proj_ms,mlp_down_proj_ms,"
    "n_head,n_kv_head,n_embd,n_expanded_embd\n";

TEST(LinearSamples, AveragesRepeatedRowsAndSortsByTpThenTokens) {
  const std::vector<sim::LinearSample> s =
      sim::load_linear_samples(kData / "a100-Llama-2-7b-hf-mlp-median.csv");
  // 261 rows per tp, 2048 and 4096 tokens measured twice.
  ASSERT_EQ(s.size(), 4u * 259);
  EXPECT_EQ(s.front().tp, 1);
  EXPECT_EQ(s.front().tokens, 1);
  EXPECT_EQ(s.back().tp, 8);
  EXPECT_EQ(s.back().tokens, 4096);
  // tp 1, 1 token: 0.065 + 0.025 + 0.116 + 0.06 ms.
  EXPECT_NEAR(s.front().linear_s, 0.266e-3, 1e-12);
  EXPECT_EQ(s.front().shape.config.hidden, 4096);
  EXPECT_EQ(s.front().shape.config.ffn, 11008);
  EXPECT_EQ(s.front().model, "a100-Llama-2-7b-hf-mlp-median");
  EXPECT_GT(s.front().other_s, 0.0);
}

TEST(LinearSamples, BadFilesNameTheLineAndTheFix) {
  std::string e = samples_error("num_tokens,tp\n1,1\n");
  EXPECT_NE(e.find("bad_samples.csv:1: no column attn_pre_proj_ms"), std::string::npos) << e;
  e = samples_error(std::string(kHeader) + "1,1,0.1,0.1,0.1,0.1,32,32,4096,11008\n" +
                    "2,1,0.1,x,0.1,0.1,32,32,4096,11008\n");
  EXPECT_NE(e.find("bad_samples.csv:3: column attn_post_proj_ms holds 'x', not a number"),
            std::string::npos)
      << e;
  e = samples_error(std::string(kHeader) + "1,1,0.1,0.1,0.1\n");
  EXPECT_NE(e.find(":2: 5 cells, the header has 10; give one value per column"), std::string::npos)
      << e;
  e = samples_error(std::string(kHeader) + "0,1,0.1,0.1,0.1,0.1,32,32,4096,11008\n");
  EXPECT_NE(e.find(":2: column num_tokens is 0, out of range"), std::string::npos) << e;
  e = samples_error(std::string(kHeader) + "8,3,0.1,0.1,0.1,0.1,32,32,4096,11008\n");
  EXPECT_NE(e.find(":2: tp 3 does not divide"), std::string::npos) << e;
  e = samples_error(kHeader);
  EXPECT_NE(e.find("no rows"), std::string::npos) << e;
  EXPECT_THROW(sim::load_linear_samples("/nonexistent/mlp.csv"), sim::SimError);
}

TEST(CostFit, RecoversConstantsFromTimesTheModelMadeItself) {
  const sim::GpuSpec& gpu = sim::gpu_preset("a100-80gb");
  sim::CostConstants truth;
  truth.gemm_efficiency_max = 0.62;
  truth.gemm_half_outputs = 3e5;
  truth.memory_efficiency = 0.8;
  truth.gemm_latency_s = 8e-6;
  truth.roofline_exponent = 3;
  std::vector<sim::LinearSample> samples = vidur_samples();
  for (sim::LinearSample& s : samples) {
    s.linear_s = sim::modelled_linear_seconds(gpu, s, truth);
    s.other_s = 20e-6;
  }
  const sim::FitResult fit = sim::fit_linear_constants(gpu, samples, sim::CostConstants{});
  EXPECT_LT(fit.rms_log_error, 1e-6);
  EXPECT_NEAR(fit.constants.gemm_efficiency_max, 0.62, 0.62 * 1e-3);
  EXPECT_NEAR(fit.constants.gemm_half_outputs, 3e5, 3e5 * 1e-3);
  EXPECT_NEAR(fit.constants.memory_efficiency, 0.8, 0.8 * 1e-3);
  EXPECT_NEAR(fit.constants.gemm_latency_s, 8e-6, 8e-6 * 1e-3);
  EXPECT_NEAR(fit.constants.roofline_exponent, 3, 3e-3);
  EXPECT_NEAR(fit.constants.layer_overhead_s, 20e-6, 1e-12);
}

// The shipped A100 constants against every measured point. Llama-2-70B is within +-15 %
// at every tp; Llama-2-7B at 98 % of its points, the rest being batches where the
// measured time jumps by a tile step the model places elsewhere, or by cuBLAS's choice of
// kernel (tp 8, 792-832 tokens: 30 % above both neighbours). docs/cost-model.md has them.
TEST(CostFit, ShippedA100ConstantsModelVidurMeasurements) {
  const std::filesystem::path file =
      std::filesystem::path(BRICKS_SOURCE_DIR) / "core/sim/presets/costs/a100-80gb.textproto";
  const sim::CostConstants k = sim::parse_cost_preset(sim::read_preset_file(file), file.string());
  const sim::GpuSpec& gpu = sim::gpu_preset("a100-80gb");
  std::map<std::string, int> inside, count;
  for (const sim::LinearSample& s : vidur_samples()) {
    const double ratio = sim::modelled_linear_seconds(gpu, s, k) / s.linear_s;
    const std::string key = s.model + " tp " + std::to_string(s.tp);
    ++count[key];
    inside[key] += ratio >= 0.85 && ratio <= 1.15 ? 1 : 0;
    if (s.model.find("70b") != std::string::npos) {
      EXPECT_NEAR(ratio, 1.0, 0.15) << key << ", " << s.tokens << " tokens";
    } else {
      EXPECT_NEAR(ratio, 1.0, 0.22) << key << ", " << s.tokens << " tokens";
    }
  }
  for (const auto& [key, n] : count) {
    EXPECT_GE(inside[key], n * 96 / 100) << key << ": " << inside[key] << " of " << n;
  }
}

}  // namespace
}  // namespace bricks::testing
