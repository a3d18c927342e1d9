// `bricks plan` end to end on a tiny sim workload: the tables, the JSON, a mix that costs
// no more than the best single type, the profile cache on a second run, and the errors
// users meet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliPlan : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { dir_ = scratch_dir("bricks-cli-plan"); }
  static std::string manifest(const std::string& device) {
    return "name: \"plan test\"\n"
           "device { " +
           device +
           " }\n"
           "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
           "bricks { kind: \"kv\" name: \"paged\" }\n"
           "bricks { kind: \"attention\" name: \"reference\" }\n"
           "workload { generator { num_requests: 40 rate: 2 prompt_len_min: 8 "
           "prompt_len_max: 60 output_len_min: 4 output_len_max: 12 seed: 3 } }\n";
  }
  static std::string sim() { return "kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\""; }
  // Short runs and a coarse grid keep the search to seconds.
  static std::string quick() {
    return "plan --no-progress --gpus a10g,A100 --input-edges 1,25,100 "
           "--output-edges 1,100 --min-requests 8 --max-requests 30 --run-seconds 2 "
           "--tolerance 0.3 --check-requests 30 ";
  }
};

TEST_F(CliPlan, PrintsAMixNoDearerThanTheBestSingleTypeAndCachesItsProfile) {
  const fs::path m = write("plan.textproto", manifest(sim()));
  const fs::path cache = dir_ / "cache";
  CliResult r = run_bricks(quick() + "--slo-tpot 0.2 --json --cache '" + cache.string() + "' '" +
                           m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["gpus"].size(), 2u);
  EXPECT_EQ(j["gpus"][0]["name"], "a10g");
  EXPECT_EQ(j["gpus"][1]["name"], "a100-80gb");  // "A100" names the 80 GB preset
  EXPECT_EQ(j["rate"], 2.0);
  ASSERT_EQ(j["buckets"].size(), 2u);  // inputs 8-24 and 25-60, outputs all below 100
  for (const auto& b : j["buckets"]) {
    double sum = 0;
    for (const auto& [gpu, x] : b["assignment"].items()) sum += x.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-6) << b.dump();
    EXPECT_GT(b["capacity"]["a10g"].get<double>(), 0.0) << b.dump();
  }
  ASSERT_TRUE(j["best_single"].is_object()) << j.dump(2);
  const double mix = j["mix"]["cost_per_hour"].get<double>();
  EXPECT_GT(mix, 0.0);
  EXPECT_LE(mix, j["best_single"]["cost_per_hour"].get<double>() + 1e-9);
  EXPECT_GE(j["saving"].get<double>(), 0.0);
  EXPECT_EQ(j["profile"]["simulated"], 4);
  EXPECT_EQ(j["profile"]["cached"], 0);
  ASSERT_TRUE(j["check"].is_object());
  EXPECT_EQ(j["check"]["requests"], 30);
  EXPECT_TRUE(j["check"]["accepted"].get<bool>()) << j["check"].dump();

  // The second plan reads every capacity from the cache and prints the tables.
  CliResult again =
      run_bricks(quick() + "--slo-tpot 0.2 --cache '" + cache.string() + "' '" + m.string() + "'");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 capacities simulated, 4 cached"), std::string::npos) << again.out;
  for (const char* part : {"bucket (tokens)", "in 1-25 / out 1-100",
                           "single types:", "mix: ", "best single type: ", "check (sim cluster"}) {
    EXPECT_NE(again.out.find(part), std::string::npos) << part << "\n" << again.out;
  }
}

TEST_F(CliPlan, ErrorsNameTheFix) {
  const fs::path cpu = write("cpu.textproto", manifest("kind: \"cpu\""));
  CliResult r = run_bricks(quick() + "--slo-tpot 0.2 --no-cache '" + cpu.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("device.kind"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("device.sim_model"), std::string::npos) << r.err;

  const fs::path m = write("plan.textproto", manifest(sim()));
  r = run_bricks("plan --gpus a10g,tpu-v5 --slo-tpot 0.1 '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("tpu-v5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a100-80gb, h100-80gb, a10g, l4"), std::string::npos) << r.err;

  r = run_bricks("plan '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--slo-tpot"), std::string::npos) << r.err;

  // A TPOT no GPU type meets even for one request alone: no mix exists.
  r = run_bricks(quick() + "--no-cache --slo-tpot 0.0001 '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("relax the SLO"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bricks::testing
