// `bricks validate` end to end: a manifest with five mistakes prints five errors with
// line:col and exits 1; an unreadable file exits 3. (Shipped manifests: cli_manifests_test.)
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliValidate, FiveMistakesFiveErrors) {
  const fs::path dir = fs::temp_directory_path() / ("bricks-validate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path m = dir / "five.textproto";
  std::ofstream(m) << "name: \"five mistakes\"\n"
                      "model { builtin: \"tiny\" }\n"
                      "device { kind: \"cpu\" }\n"
                      "bricks { kind: \"scheduler\" name: \"fcfs\"\n"
                      "  params { key: \"max_num_seq\" value { int: 8 } }\n"          // unknown
                      "  params { key: \"preemption\" value { string: \"drop\" } }\n"  // choice
                      "}\n"
                      "bricks { kind: \"kv\" name: \"pagd\" }\n"                        // name
                      "bricks { kind: \"attention\" name: \"cpu_paged\"\n"
                      "  params { key: \"kv_chunk_size\" value { string: \"big\" } }\n" // type
                      "}\n"
                      "workload { generator { num_requests: 4 prompt_len_min: 9 "
                      "prompt_len_max: 3 output_len_min: 1 output_len_max: 2 } }\n";  // range
  CliResult r = run_bricks("validate '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::regex located("five\\.textproto:[0-9]+:[0-9]+: error: ");
  const auto n = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), located),
                               std::sregex_iterator());
  EXPECT_EQ(n, 5) << r.out;
  EXPECT_NE(r.out.find("max_num_seqs"), std::string::npos) << "did-you-mean expected\n" << r.out;
  EXPECT_NE(r.out.find("paged"), std::string::npos) << r.out;
}

TEST(CliValidate, MissingFileExitsThree) {
  CliResult r = run_bricks("validate /nonexistent/manifest.textproto");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

TEST(CliBasics, VersionAndHelp) {
  CliResult v = run_bricks("version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("plugin ABI 1."), std::string::npos) << v.out;
  CliResult h = run_bricks("--help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* cmd : {"list", "inspect", "validate", "run", "generate", "make-model"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd << " missing from --help";
  }
  CliResult bad = run_bricks("no-such-command");
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace bricks::testing
