// Calibration tables: parsing, the grid interpolation rule, and errors that name the file
// and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/calibration.h"
#include "sim/sim_error.h"
#include "sim_test_support.h"

namespace bricks::testing {
namespace {

using sim::CalibrationTable;
using sim::StepShape;

// time = 0.01 + 1e-5 * prefill + 1e-4 * decodes + 1e-7 * context: linear in each column, so
// trilinear interpolation and linear extrapolation reproduce it exactly.
const char* kLinearTable = R"(# a grid of 2 x 2 x 2
num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds
0,0,0,0.01
0,0,100000,0.02
0,100,0,0.02
0,100,100000,0.03
1000,0,0,0.02
1000,0,100000,0.03
1000,100,0,0.03
1000,100,100000,0.04
)";

double linear_time(double p, double d, double c) { return 0.01 + 1e-5 * p + 1e-4 * d + 1e-7 * c; }

std::string error_of(const std::string& text) {
  try {
    CalibrationTable::parse(text, "prof.csv");
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "";
}

TEST(Calibration, GridPointsAreExact) {
  const CalibrationTable t = CalibrationTable::parse(kLinearTable, "t.csv");
  EXPECT_EQ(t.num_rows(), 8u);
  EXPECT_DOUBLE_EQ(t.seconds({0, 0, 0}), 0.01);
  EXPECT_DOUBLE_EQ(t.seconds({1000, 100, 100000}), 0.04);
  EXPECT_DOUBLE_EQ(t.seconds({1000, 0, 100000}), 0.03);
}

TEST(Calibration, InterpolatesBetweenAndExtrapolatesBeyond) {
  const CalibrationTable t = CalibrationTable::parse(kLinearTable, "t.csv");
  const std::vector<StepShape> shapes = {{500, 50, 50000},
                                         {250, 10, 90000},
                                         {1000, 37, 0},  // inside the grid
                                         {4000, 100, 100000},
                                         {500, 300, 400000}};  // past the last values
  for (const StepShape& s : shapes) {
    const double want =
        linear_time(static_cast<double>(s.prefill_tokens), static_cast<double>(s.decode_seqs),
                    static_cast<double>(s.decode_context_sum));
    EXPECT_NEAR(t.seconds(s), want, 1e-12) << s.prefill_tokens << " " << s.decode_seqs;
  }
}

TEST(Calibration, ColumnsInAnyOrderAndSingleValuedColumns) {
  // Only decodes were profiled: one prefill value, which then does not matter.
  const CalibrationTable t = CalibrationTable::parse(
      "seconds, decode_context_sum, num_decode_seqs, num_prefill_tokens\n"
      "0.005, 0, 1, 0\n"
      "0.015, 0, 101, 0\n",
      "t.csv");
  EXPECT_DOUBLE_EQ(t.seconds({0, 51, 0}), 0.01);
  EXPECT_DOUBLE_EQ(t.seconds({2048, 51, 12345}), 0.01);
  EXPECT_DOUBLE_EQ(t.seconds({0, 0, 0}), 0.005);  // below the first value: held there
}

TEST(Calibration, BadRowsNameTheFileAndLine) {
  const std::string header = "num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds\n";
  EXPECT_NE(error_of(header + "0,1,100,0.01\n0,2,abc,0.02\n").find("prof.csv:3:"),
            std::string::npos);
  EXPECT_NE(error_of(header + "0,1,100\n").find("prof.csv:2: expected 4 values"),
            std::string::npos);
  EXPECT_NE(error_of(header + "0,1,100,0\n").find("prof.csv:2: seconds is 0"), std::string::npos);
  EXPECT_NE(error_of(header + "-5,1,100,0.1\n").find("prof.csv:2: num_prefill_tokens is -5"),
            std::string::npos);
  EXPECT_NE(error_of("# profile\n" + header + "0,1,100,0.01\n0,1,100,0.02\n")
                .find("prof.csv:4: the same shape as line 3"),
            std::string::npos);
  EXPECT_NE(
      error_of("prefill,decodes,context,seconds\n").find("prof.csv:1: unknown column 'prefill'"),
      std::string::npos);
  EXPECT_NE(error_of("# nothing\n").find("no header"), std::string::npos);
  EXPECT_NE(error_of(header).find("no rows"), std::string::npos);
  // Three of the four corners of a 2 x 2 grid.
  EXPECT_NE(error_of(header + "0,1,0,0.01\n0,2,0,0.02\n512,1,0,0.03\n")
                .find("no row for num_prefill_tokens=512, num_decode_seqs=2"),
            std::string::npos);
  EXPECT_NE(error_of(header + "0,1,1e400,0.01\n").find("prof.csv:2:"), std::string::npos);
}

TEST(Calibration, MissingFileIsAClearError) {
  try {
    CalibrationTable::load("/nonexistent/prof.csv");
    FAIL() << "a missing file loaded";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/prof.csv"), std::string::npos);
  }
}

TEST(Calibration, ReplacesTheRooflineInTheCostModel) {
  sim::CostModel m = round_cost_model();
  const std::vector<sim::SeqWork> batch = {{1, 1000}, {1, 3000}, {200, 200}};
  const double roofline = m.step(batch, 3).total_s;
  m.set_calibration(CalibrationTable::parse(kLinearTable, "t.csv"));
  const sim::StepCost c = m.step(batch, 3);
  EXPECT_TRUE(c.calibrated);
  EXPECT_NEAR(c.total_s, linear_time(200, 2, 4000), 1e-12);
  EXPECT_NE(c.total_s, roofline);
  EXPECT_EQ(c.linear_s + c.attention_s + c.comm_s + c.overhead_s, 0.0);
  EXPECT_NE(m.describe().find("calibrated by t.csv"), std::string::npos);
}

TEST(Calibration, TheShippedTablesLoadAndGrowWithWork) {
  // The roofline example for the A100 and the table measured on an H100.
  for (const char* name : {"a100-80gb-mistral-7b.csv", "h100-80gb-mistral-7b.csv"}) {
    const std::filesystem::path file =
        std::filesystem::path(BRICKS_SOURCE_DIR) / "core/sim/calibration" / name;
    const CalibrationTable t = CalibrationTable::load(file);
    EXPECT_EQ(t.num_rows(), 48u) << name;
    EXPECT_LT(t.seconds({0, 1, 512}), t.seconds({0, 64, 64 * 4096})) << name;
    EXPECT_LT(t.seconds({128, 0, 0}), t.seconds({2048, 0, 0})) << name;
    EXPECT_LT(t.seconds({0, 8, 8 * 512}), t.seconds({256, 8, 8 * 512})) << name;
  }
}

}  // namespace
}  // namespace bricks::testing
