// `bricks run manifests/moe.textproto` end to end: the shipped MoE manifest runs every
// request on the builtin moe-tiny model (made in a temp dir on first use).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scratch_dir.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MoeCli, RunsTheShippedManifest) {
  const fs::path dir = bricks::testing::scratch_dir("bricks-moe-cli");
  const std::string cmd = "cd '" + dir.string() + "' && '" + BRICKS_CLI +
                          "' run --no-progress --threads 2 --report-json report.json '" +
                          BRICKS_SOURCE_DIR + "/manifests/moe.textproto' >out.txt 2>err.txt";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << slurp(dir / "err.txt") << slurp(dir / "out.txt");
  const std::string out = slurp(dir / "out.txt");
  EXPECT_NE(out.find("0 failed"), std::string::npos) << out;
  EXPECT_NE(slurp(dir / "report.json").find("\"finished\""), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
