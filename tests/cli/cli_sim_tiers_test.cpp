// The sim device's memory tiers end to end: the fuyou experiment manifests run through
// `bricks run`, and the report shows where the weights were placed and what crossed
// between the tiers.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kExperiments = fs::path(BRICKS_SOURCE_DIR) / "manifests/experiments";

nlohmann::json run_report(const std::string& manifest, int requests, std::string* table) {
  const fs::path json = scratch_dir("bricks-cli-sim-tiers") / (manifest + ".json");
  CliResult r =
      run_bricks("run '" + (kExperiments / (manifest + ".textproto")).string() + "' --requests " +
                 std::to_string(requests) + " --no-progress --report-json '" + json.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  if (table != nullptr) *table = r.out;
  return nlohmann::json::parse(read_file(json));
}

TEST(CliSimTiers, SeventyBillionOnA4090ShowsEveryTier) {
  std::string table;
  const nlohmann::json rep = run_report("fuyou-70b-4090-overlap", 2, &table);
  EXPECT_EQ(rep["requests"]["finished"], 2);
  const nlohmann::json& t = rep["tiers"];
  EXPECT_EQ(t["ssd"], "nvme-gen4");
  const int gpu = t["placement"]["gpu"]["layers"], host = t["placement"]["host"]["layers"],
            ssd = t["placement"]["ssd"]["layers"];
  EXPECT_GT(gpu, 0);
  EXPECT_GT(host, 0);
  EXPECT_GT(ssd, 0);
  EXPECT_EQ(gpu + host + ssd, 80);
  EXPECT_GT(t["weights_streamed"]["ssd_bytes"].get<double>(), 0);
  EXPECT_GT(t["weights_streamed"]["host_bytes"].get<double>(), 0);
  EXPECT_GT(t["weights_streamed"]["hidden_behind_compute_s"].get<double>(), 0);
  EXPECT_NE(table.find("tiers       weights:"), std::string::npos) << table;
  EXPECT_NE(table.find("on SSD nvme-gen4"), std::string::npos) << table;
}

TEST(CliSimTiers, OverlapIsFasterThanSerialOnTheSameWork) {
  const nlohmann::json overlap = run_report("fuyou-7b-4090-overlap", 4, nullptr);
  const nlohmann::json serial = run_report("fuyou-7b-4090-serial", 4, nullptr);
  EXPECT_EQ(overlap["tokens"]["output"], serial["tokens"]["output"]);
  EXPECT_EQ(overlap["tiers"]["placement"]["host"]["layers"],
            serial["tiers"]["placement"]["host"]["layers"]);
  EXPECT_EQ(serial["tiers"]["weights_streamed"]["hidden_behind_compute_s"], 0.0);
  EXPECT_LT(overlap["duration_s"].get<double>(), serial["duration_s"].get<double>());
}

}  // namespace
}  // namespace bricks::testing
