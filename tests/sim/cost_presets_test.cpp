// Cost presets as text: a good file read, each kind of bad file refused once with its
// file:line, the field and the fix, and the fitter's output read back as it was written.
#include <gtest/gtest.h>

#include <string>

#include "sim/cost_presets.h"
#include "sim/sim_error.h"

namespace bricks::testing {
namespace {

std::string preset_error(const std::string& text) {
  try {
    sim::parse_cost_preset(text, "costs.textproto");
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "";
}

TEST(CostPreset, ReadsTheFieldsItSetsAndKeepsTheDefaultsOfTheRest) {
  const sim::CostConstants k = sim::parse_cost_preset(
      "# measured\ngemm_efficiency_max: 0.6\ngemm_latency_us: 4\nroofline_exponent: 0\n"
      "layer_overhead_us: 30\nruntime_reserve_mib: 512\ngemm_tile_rows: 1\n",
      "costs.textproto");
  EXPECT_DOUBLE_EQ(k.gemm_efficiency_max, 0.6);
  EXPECT_DOUBLE_EQ(k.gemm_latency_s, 4e-6);
  EXPECT_DOUBLE_EQ(k.roofline_exponent, 0.0);
  EXPECT_DOUBLE_EQ(k.layer_overhead_s, 30e-6);
  EXPECT_DOUBLE_EQ(k.runtime_reserve_bytes, 512.0 * 1024 * 1024);
  EXPECT_EQ(k.gemm_tile_rows, 1);
  const sim::CostConstants generic;
  EXPECT_DOUBLE_EQ(k.memory_efficiency, generic.memory_efficiency);
  EXPECT_DOUBLE_EQ(k.step_overhead_s, generic.step_overhead_s);
}

TEST(CostPreset, EachBadFileGivesOneErrorWithLineFieldAndFix) {
  std::string e = preset_error("gemm_efficiency_max: 0.6\ngemm_speed: 2\n");
  EXPECT_NE(e.find("costs.textproto:2: unknown field 'gemm_speed' in a cost preset; remove it; "
                   "the fields are gemm_efficiency_max,"),
            std::string::npos)
      << e;
  e = preset_error("\nmemory_efficiency: 1.5\n");
  EXPECT_EQ(e,
            "costs.textproto:2: cost preset field memory_efficiency: 1.5 is out of range; "
            "give a share of the peak in (0, 1]");
  e = preset_error("gemm_latency_us: -1\n");
  EXPECT_NE(e.find(":1: cost preset field gemm_latency_us: -1 is out of range; give 0 or more"),
            std::string::npos)
      << e;
  e = preset_error("gemm_tile_rows: 0\n");
  EXPECT_NE(e.find("field gemm_tile_rows: 0 is out of range"), std::string::npos) << e;
  e = preset_error("gemm_efficiency_max 0.5 }\n");
  EXPECT_NE(e.find("costs.textproto:1: "), std::string::npos) << e;
}

TEST(CostPreset, FormattedConstantsReadBackAsWritten) {
  sim::CostConstants k;
  k.gemm_efficiency_max = 0.7575;
  k.gemm_half_outputs = 109282;
  k.gemm_latency_s = 5.05e-6;
  k.layer_overhead_s = 27.5e-6;
  const std::string text = sim::format_cost_preset(k, "fitted\n\nby a test");
  EXPECT_EQ(text.rfind("# fitted\n#\n# by a test\n", 0), 0u) << text;
  const sim::CostConstants back = sim::parse_cost_preset(text, "out.textproto");
  EXPECT_DOUBLE_EQ(back.gemm_efficiency_max, 0.7575);
  EXPECT_DOUBLE_EQ(back.gemm_half_outputs, 109282);
  EXPECT_NEAR(back.gemm_latency_s, 5.05e-6, 1e-15);
  EXPECT_NEAR(back.layer_overhead_s, 27.5e-6, 1e-15);
  EXPECT_EQ(back.gemm_large_tile_from, k.gemm_large_tile_from);
}

}  // namespace
}  // namespace bricks::testing
