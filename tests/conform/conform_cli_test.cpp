// `bricks conform` end to end, through the bricks CLI: a scheduler that runs more requests
// than its max_num_seqs fails with the violation named; bad command lines and plugins that do
// not load are refused with one line and exit 2; an installed tree (bricks, bricks-conform and
// the shipped plugins under a fresh prefix) checks a plugin with no build tree to lean on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli_run.h"
#include "scratch_dir.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kTestPlugins = BRICKS_TEST_PLUGIN_DIR;

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(ConformCli, ABrickThatBreaksItsPromiseFails) {
  const fs::path plugin = kTestPlugins / "conform" / "libovercommit_sched.so";
  const CliResult r = run_bricks("conform " + quoted(plugin));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("max_num_seqs exceeded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plans checked against max_num_seqs 2 (its param)"), std::string::npos)
      << r.out;
  const std::string summary = "conform: scheduler/overcommit from " + plugin.string() + ": ";
  const size_t at = r.out.rfind(summary);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 0 failed", at), std::string::npos) << r.out.substr(at);
}

TEST(ConformCli, ParamsReachTheBrickAndItsLimits) {
  const fs::path plugin = kTestPlugins / "conform" / "libovercommit_sched.so";
  const CliResult r = run_bricks("conform " + quoted(plugin) +
                                 " --param max_num_seqs=64 --gtest_filter=*Oversized*");
  EXPECT_NE(r.out.find("max_num_seqs 64 (its param) and max_num_batched_tokens 2048 (default)"),
            std::string::npos)
      << r.out;
}

TEST(ConformCli, BadCommandLinesAreRefusedWithOneLine) {
  const fs::path good = kTestPlugins / "conform" / "libovercommit_sched.so";
  struct Case {
    std::string args;
    std::string said;
  };
  const Case cases[] = {
      {"", "no plugin file given"},
      {quoted(kTestPlugins / "missing.so"), "no such plugin file: "},
      {quoted(good) + " --kind schedular", "unknown kind 'schedular' (did you mean 'scheduler'?)"},
      {quoted(good) + " --kind kv", "has no kv brick; its bricks are scheduler/overcommit"},
      {quoted(good) + " --brick overcomit",
       "has no brick 'overcomit' (did you mean 'overcommit'?)"},
      {quoted(good) + " --param max_num_seq=3", "(did you mean 'max_num_seqs'?)"},
      {quoted(good) + " --param max_num_seqs=0", "out of range"},
      {quoted(good) + " --frobnicate", "unknown option '--frobnicate'"},
      {quoted(kTestPlugins / "bad" / "libsegv.so"), "crashed with SIGSEGV while loading"},
      {quoted(kTestPlugins / "bad" / "libabi_major.so"), "plugin ABI 2.0 is not compatible"},
      {quoted(kTestPlugins / "good" / "libtoy_sched.so") + " --brick toy_fcfs",
       "requires kv.blocks, which no kv brick on the plugin path provides"},
  };
  for (const Case& c : cases) {
    const CliResult r = run_bricks("conform " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("bricks-conform: "), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.said), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

TEST(ConformCli, AMisspeltCommandSuggestsConform) {
  const CliResult r = run_bricks("confrom x.so");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "bricks: unknown command 'confrom'; did you mean 'conform'?\n");
}

TEST(ConformCli, HelpSaysWhichLimitsAreChecked) {
  const CliResult r = run_bricks("conform --help");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* want : {"max_num_seqs", "max_num_batched_tokens", "256", "2048", "--param",
                           "--kind", "--brick", "kv/paged"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want;
  }
}

// Installed: bricks finds bricks-conform beside it, and bricks-conform finds the shipped kv
// brick it wires a scheduler to in the prefix's plugin dir, though the prefix is not the one
// the build was configured with and the program is not in a build tree.
TEST(ConformCli, AnInstalledTreeChecksAPlugin) {
  const fs::path prefix = scratch_dir("bricks-conform-install") / "prefix";
  for (const char* part : {"tools/bricks", "tools/conform", "plugins"}) {
    const std::string command = "'" BRICKS_CMAKE "' --install '" +
                                (fs::path(BRICKS_BINARY_DIR) / part).string() + "' --prefix '" +
                                prefix.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  const fs::path plugins = prefix / BRICKS_PLUGIN_INSTALL_DIR;
  const std::string command =
      "cd / && env -u BRICKS_PLUGIN_PATH " + quoted(prefix / "bin" / "bricks") + " conform " +
      quoted(plugins / "libbricks_scheduler_fcfs.so") + " --gtest_filter=*Oversized* >" +
      quoted(prefix / "out.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  const std::string out = read_file(prefix / "out.txt");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("wired to kv/paged"), std::string::npos) << out;
  EXPECT_NE(out.find("conform: scheduler/fcfs from " +
                     (plugins / "libbricks_scheduler_fcfs.so").string() + ": 1 passed, 0 failed"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace bricks::testing
