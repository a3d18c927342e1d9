// The disk tier under the host tier, end to end through `bricks run`: multi-turn chats whose
// kept KV is far more than host memory holds spill to disk and come back from it, and the
// greedy outputs are those of a run whose host tier keeps everything in memory; the report
// shows the disk traffic. The manifest errors a user meets come first.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliDiskKv : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() {
    make_dir_with_tiny_model("bricks-cli-disk-kv");
    fs::create_directories(dir_ / "kv-disk");
  }
  // Six three-turn greedy chats kept between turns; `device` completes the device section.
  static std::string manifest(const std::string& device) {
    return "name: \"disk kv\"\n"
           "model { path: \"tiny.gguf\" }\n"
           "device { kind: \"cpu\" threads: 2 kv_cache_bytes: 8388608 overlap_swaps: true " +
           device +
           " }\n"
           "bricks { kind: \"scheduler\" name: \"fastswitch\" }\n"
           "bricks { kind: \"kv\" name: \"block_group\" "
           "params { key: \"keep_conversations\" value { bool: true } } }\n"
           "bricks { kind: \"attention\" name: \"cpu_paged\" }\n"
           "workload { generator { rate: 16 seed: 9 "
           "prompt_len { kind: \"uniform\" min: 32 max: 96 } "
           "output_len { kind: \"uniform\" min: 4 max: 8 } "
           "conversations { count: 6 turns: 3 think_time_s: 0.2 max_prompt_len: 400 } } "
           "sampling { temperature: 0 ignore_eos: true } }\n";
  }
  // The sorted output digests of a run, and its report.
  static std::vector<std::string> run(const std::string& name, const std::string& device,
                                      nlohmann::json& report) {
    const fs::path m = write(name + ".textproto", manifest(device));
    CliResult r = run_bricks("run --no-progress --quiet --requests-out " + name +
                                 ".jsonl --report-json " + name + ".json '" + m.string() + "'",
                             dir_);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    report = nlohmann::json::parse(read_file(dir_ / (name + ".json")));
    std::istringstream lines(read_file(dir_ / (name + ".jsonl")));
    std::vector<std::string> digests;
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line);
      EXPECT_FALSE(j.contains("failure")) << line;
      digests.push_back(j["output_digest"].get<std::string>());
    }
    std::sort(digests.begin(), digests.end());
    return digests;
  }
};

// Request ids follow the turns' arrivals, which follow each run's own timing: outputs are
// compared as the set of per-request digests (each turn's prompt carries the turns before
// it, so a changed KV shows in every later digest of its conversation).
TEST_F(CliDiskKv, KeptChatsThroughDiskGiveTheOutputsOfAnAllMemoryHostTier) {
  nlohmann::json memory_report, disk_report;
  const auto memory = run("memory", "host_kv_bytes: 268435456", memory_report);
  const auto disk = run(
      "disk", "host_kv_bytes: 1048576 disk_kv_bytes: 134217728 disk_dir: \"kv-disk\"", disk_report);
  ASSERT_GE(memory.size(), 12u);  // turns past max_prompt_len are not drawn
  EXPECT_EQ(disk, memory);
  EXPECT_EQ(memory_report["disk_kv"]["blocks"], 0);
  EXPECT_GT(disk_report["disk_kv"]["blocks"].get<int64_t>(), 0);
  EXPECT_GT(disk_report["disk_kv"]["blocks_written"].get<int64_t>(), 0) << disk_report.dump();
  EXPECT_GT(disk_report["disk_kv"]["blocks_read"].get<int64_t>(), 0) << disk_report.dump();
  EXPECT_EQ(disk_report["disk_kv"]["failed_reads"], 0);
  EXPECT_EQ(disk_report["disk_kv"]["failed_writes"], 0);
  EXPECT_TRUE(fs::is_empty(dir_ / "kv-disk")) << "the disk tier's file is left behind";
}

TEST_F(CliDiskKv, ManifestErrorsNameTheFieldAndTheFix) {
  struct Case {
    std::string device, field, says;
  };
  for (const Case& c : std::vector<Case>{
           {"host_kv_bytes: 1048576 disk_kv_bytes: -1", "device.disk_kv_bytes", "below 0"},
           {"disk_kv_bytes: 134217728 disk_dir: \"kv-disk\"", "device.disk_kv_bytes",
            "needs a host tier"},
           {"host_kv_bytes: 1048576 disk_kv_bytes: 134217728", "device.disk_dir",
            "needs device.disk_dir"},
           {"host_kv_bytes: 1048576 disk_kv_bytes: 134217728 disk_dir: \"no-such-dir\"",
            "device.disk_dir", "does not exist"},
           {"host_kv_bytes: 1048576 disk_kv_bytes: 4096 disk_dir: \"kv-disk\"", "disk_kv_bytes",
            "holds no KV block"}}) {
    const fs::path m = write("bad.textproto", manifest(c.device));
    CliResult r = run_bricks("run --no-progress --quiet '" + m.string() + "'", dir_);
    EXPECT_NE(r.exit_code, 0) << c.device;
    const std::string all = r.out + r.err;
    EXPECT_NE(all.find(c.field), std::string::npos) << c.device << "\n" << all;
    EXPECT_NE(all.find(c.says), std::string::npos) << c.device << "\n" << all;
  }
}

}  // namespace
}  // namespace bricks::testing
