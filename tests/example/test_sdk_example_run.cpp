// The SDK's example end to end: built out of tree against the installed SDK, checked by
// `bricks conform`, named in a manifest with the shipped kv/paged and attention/cpu_paged
// bricks on the builtin tiny model, validated and run with `bricks run`. The manifest check refuses
// the example unless a wired brick provides the capability it requires, and the run passes only
// when every request finishes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"
#include "example_build.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;
using bricks::testing::CliResult;
using bricks::testing::run_bricks;
using example::build_example;
using example::slurp;

// A manifest line: `key: "value"`.
std::string field(const std::string& key, const std::string& value) {
  return key + ": \"" + value + "\"\n";
}

// The example scheduler (from plugin_dir) over kv brick `kv` (shipped, or from the test
// plugins when `toy`), serving `num_requests` generated requests on the builtin tiny model.
std::string manifest(const fs::path& plugin_dir, const std::string& kv, int num_requests,
                     bool toy = false) {
  std::string m = field("name", "sdk example") + field("plugin_paths", plugin_dir.string());
  if (toy) m += field("plugin_paths", (fs::path(BRICKS_TEST_PLUGIN_DIR) / "good").string());
  return m +
         "model { builtin: \"tiny\" dtype: \"f32\" }\n"
         "device { kind: \"cpu\" threads: 2 kv_cache_bytes: 8388608 }\n"
         "bricks { kind: \"scheduler\" name: \"simple_fcfs\"\n"
         "  params { key: \"max_num_seqs\" value { int: 4 } }\n"
         "  params { key: \"max_num_batched_tokens\" value { int: 64 } } }\n"
         "bricks { kind: \"kv\" " +
         field("name", kv) +
         "}\n"
         "bricks { kind: \"attention\" name: \"cpu_paged\" }\n"
         "workload { generator { num_requests: " +
         std::to_string(num_requests) +
         " prompt_len_min: 8 prompt_len_max: 80 output_len_min: 4 output_len_max: 12 "
         "seed: 5 } }\n";
}

// Builds the example once for the suite, in a directory of its own.
class SdkExampleRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir;
    dir_ = build_example(*tmp_, "-DCMAKE_CXX_FLAGS='-Wall -Wextra -Wpedantic -Werror'");
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(dir_.empty()) << "the example did not build (see the first failure)";
  }
  static fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(*tmp_ / name) << text;
    return *tmp_ / name;
  }
  inline static testing::TempDir* tmp_ = nullptr;
  inline static fs::path dir_;
};

TEST_F(SdkExampleRun, ServesEveryRequestWithThePagedKvBrick) {
  const fs::path m = write("paged.textproto", manifest(dir_, "paged", 10));
  // The example requires kv.paged, which kv/paged provides.
  CliResult v = run_bricks("validate '" + m.string() + "'", tmp_->path());
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;

  CliResult r =
      run_bricks("run --no-progress --report-json report.json '" + m.string() + "'", tmp_->path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("10 finished"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(*tmp_ / "report.json"));
  EXPECT_EQ(j["requests"]["submitted"], 10);
  EXPECT_EQ(j["requests"]["finished"], 10);
  EXPECT_EQ(j["requests"]["failed"], 0);
  EXPECT_NE(j["bricks"].dump().find("simple_fcfs"), std::string::npos) << j["bricks"].dump();
}

// The example passes the scheduler conformance suite, as every shipped scheduler does.
TEST_F(SdkExampleRun, PassesBricksConform) {
  const fs::path plugin = dir_ / "libsimple_fcfs.so";
  CliResult r = run_bricks("conform '" + plugin.string() + "'", tmp_->path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("plans checked against max_num_seqs 64 (its param) and "
                       "max_num_batched_tokens 2048 (its param)"),
            std::string::npos)
      << r.out;
  const std::string summary = "conform: scheduler/simple_fcfs from " + plugin.string() + ": ";
  const size_t at = r.out.rfind(summary);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" passed, 0 failed\n", at), std::string::npos) << r.out.substr(at);
}

// The capability is checked: toy_kv (a test brick) manages blocks but does not promise
// kv.paged, so the manifest is refused before anything runs, naming a kv brick that would do.
TEST_F(SdkExampleRun, RefusesAKvBrickWithoutTheCapabilityItRequires) {
  const fs::path m = write("toy.textproto", manifest(dir_, "toy_kv", 2, true));
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", tmp_->path());
  EXPECT_NE(r.exit_code, 0) << r.out;
  const std::string said = r.out + r.err;
  EXPECT_NE(said.find("requires capability 'kv.paged'"), std::string::npos) << said;
  EXPECT_NE(said.find("kv 'paged'"), std::string::npos) << said;
}

}  // namespace
}  // namespace bricks::host
