// `bricks placement --topology` end to end on a tiny sim cluster: two nodes of two GPUs, one
// on InfiniBand and one on Ethernet only. The NIC-aware layout keeps each prefill
// instance's KV inside its node; the NIC-oblivious one fills node 0 with prefill instances
// first, so some KV crosses to the Ethernet node over TCP. Short runs and a coarse rate
// search keep it to seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliPlacementTopology : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = scratch_dir("bricks-cli-placement-topology");
    write("disagg.textproto",
          "device { kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-7b\" }\n"
          "bricks { kind: \"scheduler\" name: \"disagg\" }\n"
          "bricks { kind: \"kv\" name: \"paged\" }\n"
          "bricks { kind: \"attention\" name: \"reference\" }\n"
          "workload { generator { num_requests: 40 rate: 2 prompt_len_min: 200 "
          "prompt_len_max: 400 output_len_min: 4 output_len_max: 12 seed: 3 } }\n"
          "output { slo { ttft_s: 0.5 tpot_s: 0.2 } }\n");
    write("two-nodes.textproto",
          "name: \"two-nodes\"\n"
          "nodes { name: \"ib-0\" gpus: 2 gpu: \"a100-80gb\" nic { kind: INFINIBAND gbps: 200 } }\n"
          "nodes { name: \"eth-0\" gpus: 2 gpu: \"a100-80gb\" nic { kind: ETHERNET gbps: 25 } }\n"
          "fabrics { name: \"ib\" nodes: \"ib-0\" }\n");
  }
  static void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  static std::string quick() {
    return "placement disagg.textproto --topology two-nodes.textproto --tp 1 "
           "--requests-per-gpu 25 --tolerance 0.3 ";
  }
  static inline fs::path dir_;
};

TEST_F(CliPlacementTopology, PrintsBothLayoutsAndTheirGoodput) {
  CliResult r = run_bricks(quick() + "--json result.json", dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* part :
       {"Placements of llama-2-7b on two-nodes: 2 nodes, 4 GPUs (a100-80gb); fabrics ib: ib-0",
        "NIC-aware", "oblivious", "2 prefill x tp1 + 2 decode x tp1",
        "best NIC-aware: ", "best NIC-oblivious: ", "NIC-aware / NIC-oblivious goodput: "}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
  // The best of each kind, with where its instances sit and how their KV travels.
  const std::string aware = r.out.substr(r.out.find("best NIC-aware: "));
  const std::string aware_layout = aware.substr(0, aware.find("best NIC-oblivious: "));
  EXPECT_NE(aware_layout.find("over nvlink"), std::string::npos) << aware_layout;
  const std::string oblivious = r.out.substr(r.out.find("best NIC-oblivious: "));
  EXPECT_NE(oblivious.find("KV to every decode over"), std::string::npos) << oblivious;
  EXPECT_NE(oblivious.find("tcp\n"), std::string::npos) << oblivious;

  const auto j = nlohmann::json::parse(read_file(dir_ / "result.json"));
  EXPECT_EQ(j["topology"]["name"], "two-nodes");
  EXPECT_EQ(j["topology"]["gpus"], 4);
  // Every placement of the 4 GPUs with tp1: 1+3, 2+2 and 3+1 instances.
  ASSERT_EQ(j["results"].size(), 3u);
  for (const auto& p : j["results"]) {
    EXPECT_EQ(p["gpus"], 4);
    EXPECT_TRUE(p["nic_aware"]["error"].get<std::string>().empty()) << p.dump();
    // Two cells of one prefill and one decode instance, one per node, against both prefill
    // instances on the InfiniBand node sending every prompt's KV to the Ethernet node.
    if (p["placement"] == "2 prefill x tp1 + 2 decode x tp1") {
      EXPECT_GT(p["nic_aware"]["goodput_rps"].get<double>(),
                2 * p["nic_oblivious"]["goodput_rps"].get<double>())
          << p.dump();
    }
  }
  const auto& best = j["best_nic_aware"];
  ASSERT_TRUE(best.is_object()) << j.dump(2);
  EXPECT_GT(best["goodput_rps"].get<double>(), 0.0);
  ASSERT_FALSE(best["layout"].empty());
  EXPECT_EQ(best["layout"][0]["role"], "prefill");
  EXPECT_EQ(best["layout"][0]["stages"][0]["layers"], 32);  // llama-2-7b, one stage
  EXPECT_TRUE(j["best_nic_oblivious"].is_object());
}

TEST_F(CliPlacementTopology, ErrorsNameTheFileAndTheFix) {
  write("bad.textproto",
        "nodes { name: \"n\" gpus: 2 gpu: \"a100\" nic { kind: ETHERNET gbps: 25 } }\n");
  CliResult bad = run_bricks("placement disagg.textproto --topology bad.textproto --tp 1", dir_);
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("bad.textproto:1:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("did you mean 'a100-80gb'?"), std::string::npos) << bad.err;

  // With tp 4 a prefill and a decode instance need eight GPUs; the topology has four.
  CliResult none = run_bricks(
      "placement disagg.textproto --topology two-nodes.textproto --tp 4 --requests-per-gpu 5",
      dir_);
  EXPECT_EQ(none.exit_code, 2) << none.out << none.err;
  EXPECT_NE(none.err.find("add choices to --tp or --pp"), std::string::npos) << none.err;

  CliResult pp = run_bricks("placement disagg.textproto --gpus 2 --pp 2", dir_);
  EXPECT_EQ(pp.exit_code, 2) << pp.out << pp.err;
  EXPECT_NE(pp.err.find("--pp needs --topology"), std::string::npos) << pp.err;
}

}  // namespace
}  // namespace bricks::testing
