// `bricks bench` end to end on the tiny model: two small rates, the table, bench.json and
// the SVG plots; a short capacity search; a trace at two rates (sim); the errors users meet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliBench : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { make_dir_with_tiny_model("bricks-cli-bench"); }
  static std::string manifest(const std::string& workload) {
    return "name: \"bench test\"\n"
           "model { path: \"tiny.gguf\" }\n"
           "device { kind: \"cpu\" threads: 2 kv_cache_bytes: 8388608 }\n"
           "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
           "bricks { kind: \"kv\" name: \"paged\" }\n"
           "bricks { kind: \"attention\" name: \"cpu_paged\" }\n"
           "workload { " +
           workload + " sampling { ignore_eos: true } }\n";
  }
  static std::string generator() {
    return "generator { num_requests: 3 prompt_len_min: 8 prompt_len_max: 24 "
           "output_len_min: 2 output_len_max: 4 seed: 5 "
           "tenants { name: \"chat\" share: 1 } tenants { name: \"batch\" share: 1 } }";
  }
};

TEST_F(CliBench, TwoRatesTableJsonAndPlots) {
  const fs::path m = write("bench.textproto", manifest(generator()));
  const fs::path out = dir_ / "out";
  CliResult r = run_bricks(
      "bench --no-progress --rates 20,40 --num-requests 4 --slo-ttft 5 "
      "--slo-tpot 1 --out '" +
      out.string() + "' '" + m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("TTFT p99"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bench "), std::string::npos) << r.out;  // the manifest's stem
  const auto j = nlohmann::json::parse(read_file(out / "bench.json"));
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    EXPECT_EQ(run["report"]["requests"]["finished"], 4);
    EXPECT_EQ(run["report"]["requests"]["failed"], 0);
    EXPECT_TRUE(run["report"].contains("slo"));
    EXPECT_EQ(run["report"]["tenants"].size(), 2u);
  }
  EXPECT_EQ(j["runs"][0]["rate"], 20.0);
  EXPECT_EQ(j["runs"][1]["rate"], 40.0);
  for (const char* f : {"latency_ttft.svg", "latency_tpot.svg", "cdf_ttft.svg", "cdf_tpot.svg"}) {
    const std::string svg = read_file(out / f);
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u) << f;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << f;
  }
  EXPECT_FALSE(fs::exists(out / "capacity.svg"));
}

TEST_F(CliBench, CapacitySearchReportsARateAndGoodput) {
  const fs::path m = write("cap.textproto", manifest(generator()));
  const fs::path out = dir_ / "cap";
  CliResult r = run_bricks(
      "bench --no-progress --rates 20 --num-requests 3 --capacity "
      "--slo-ttft 30 --slo-tpot 30 --max-median-ttft 30 --max-runs 2 --out '" +
      out.string() + "' '" + m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("capacity"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("goodput"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read_file(out / "bench.json"));
  ASSERT_EQ(j["capacity"].size(), 1u);
  // Targets this loose hold at 20 and 40 req/s: the search doubles and runs out of runs.
  EXPECT_EQ(j["capacity"][0]["capacity"]["max_rate"], 40.0);
  EXPECT_EQ(j["capacity"][0]["goodput"]["max_rate"], 40.0);
  EXPECT_EQ(j["runs"].size(), 2u);  // the goodput search reuses the capacity runs
  EXPECT_TRUE(fs::exists(out / "capacity.svg"));
}

// On the sim device a loose TBT target alone holds at any rate (requests just queue
// longer); the median-TTFT bound is what ends the capacity search, and goodput is not
// searched without a TTFT target.
TEST_F(CliBench, CapacityNeedsABoundedQueueAndGoodputATtftTarget) {
  const fs::path m = write(
      "sim.textproto",
      "name: \"sim bench\"\n"
      "device { kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\" }\n"
      "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
      "bricks { kind: \"kv\" name: \"paged\" }\n"
      "bricks { kind: \"attention\" name: \"reference\" }\n"
      "workload { generator { num_requests: 200 prompt_len_min: 400 prompt_len_max: 800 "
      "output_len_min: 50 output_len_max: 100 seed: 3 } }\n");
  const std::string common = "bench --no-progress --rates 2 --capacity --slo-tbt 10 --max-runs 6 ";
  CliResult unbounded = run_bricks(common + "--max-median-ttft 0 --out '" +
                                   (dir_ / "unbounded").string() + "' '" + m.string() + "'");
  ASSERT_EQ(unbounded.exit_code, 0) << unbounded.out << unbounded.err;
  EXPECT_NE(unbounded.out.find("no failing rate found"), std::string::npos) << unbounded.out;
  EXPECT_NE(unbounded.out.find("goodput   not searched: it needs a TTFT target"),
            std::string::npos)
      << unbounded.out;

  CliResult bounded = run_bricks(common + "--max-median-ttft 1 --out '" +
                                 (dir_ / "bounded").string() + "' '" + m.string() + "'");
  ASSERT_EQ(bounded.exit_code, 0) << bounded.out << bounded.err;
  EXPECT_NE(bounded.out.find("median TTFT <= 1 s"), std::string::npos) << bounded.out;
  const auto j = nlohmann::json::parse(read_file(dir_ / "bounded" / "bench.json"));
  EXPECT_TRUE(j["capacity"][0]["capacity"]["bounded"].get<bool>()) << j.dump(2);
  EXPECT_GT(j["capacity"][0]["capacity"]["max_rate"].get<double>(), 0.0);
  EXPECT_FALSE(j["capacity"][0].contains("goodput"));
}

// A trace is replayed at each rate by scaling its arrival times; --num-requests keeps its
// first rows. The sim device runs it, so the simulated span of arrivals is exact.
TEST_F(CliBench, TraceReplayedAtEachRate) {
  std::string rows;
  for (int i = 0; i < 12; ++i) {
    rows += "{\"arrival_s\": " + std::to_string(i) + ", \"prompt_len\": " +
            std::to_string(100 + 10 * i) + ", \"max_tokens\": 8}\n";
  }
  write("sim-trace.jsonl", rows);
  const fs::path m = write(
      "sim-trace.textproto",
      "name: \"sim trace bench\"\n"
      "device { kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\" }\n"
      "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
      "bricks { kind: \"kv\" name: \"paged\" }\n"
      "bricks { kind: \"attention\" name: \"reference\" }\n"
      "workload { trace: \"sim-trace.jsonl\" trace_time_scale: 3 }\n");
  const fs::path out = dir_ / "trace-out";
  CliResult r = run_bricks("bench --no-progress --rates 1,4 --out '" + out.string() + "' '" +
                           m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(read_file(out / "bench.json"));
  ASSERT_EQ(j["runs"].size(), 2u);
  // 12 rows one second apart: at 1 req/s the last arrives at 11 s, at 4 req/s at 2.75 s
  // (the manifest's own scale of 3 is replaced), and every run lasts past its last arrival.
  const double slow = j["runs"][0]["report"]["duration_s"].get<double>();
  const double fast = j["runs"][1]["report"]["duration_s"].get<double>();
  EXPECT_EQ(j["runs"][0]["report"]["requests"]["finished"], 12);
  EXPECT_EQ(j["runs"][1]["report"]["requests"]["finished"], 12);
  EXPECT_GE(slow, 11.0);
  EXPECT_LT(slow, 12.0);
  EXPECT_GE(fast, 2.75);
  EXPECT_LT(fast, 3.75);

  r = run_bricks("bench --no-progress --rates 1 --num-requests 5 --out '" + out.string() +
                 "' '" + m.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  j = nlohmann::json::parse(read_file(out / "bench.json"));
  EXPECT_EQ(j["runs"][0]["report"]["requests"]["submitted"], 5);
}

TEST_F(CliBench, ErrorsNameTheFix) {
  write("t.jsonl", "{\"prompt_len\": 4}\n");
  const fs::path trace = write("trace.textproto", manifest("trace: \"t.jsonl\""));
  CliResult r = run_bricks("bench --no-progress --rates 1 '" + trace.string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no arrival rate to scale"), std::string::npos) << r.err;
  r = run_bricks("bench --no-progress --rates 1 --duration-s 5 '" + trace.string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs workload.generator"), std::string::npos) << r.err;

  const fs::path m = write("noslo.textproto", manifest(generator()));
  r = run_bricks("bench --no-progress --rates 1 --capacity '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--slo-ttft"), std::string::npos) << r.err;

  r = run_bricks("bench --rates 0 '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(CliBench, HelpExplainsEveryFlag) {
  CliResult r = run_bricks("bench --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag :
       {"--rates", "--num-requests", "--duration-s", "--slo-ttft", "--slo-tpot", "--slo-tbt",
        "--slo-percentile", "--capacity", "--tolerance", "--max-runs", "--out", "--cdf-rate"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace bricks::testing
