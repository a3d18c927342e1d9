// `bricks list` and `bricks inspect` end to end, through the built CLI binary, and
// `bricks validate` against plugins the host refused.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bricks/abi.h"
#include "temp_dir.h"
#include "toy_plugins.h"

namespace {

namespace fs = std::filesystem;

using bricks::host::testing::kToyPlugins;

struct Result {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `bricks <args>` with BRICKS_PLUGIN_PATH unset, capturing stdout and stderr.
Result bricks(const std::string& args) {
  bricks::host::testing::TempDir dir;
  std::string command = "env -u BRICKS_PLUGIN_PATH '" BRICKS_CLI "' " + args + " >'" +
                        (dir / "out").string() + "' 2>'" + (dir / "err").string() + "'";
  int status = std::system(command.c_str());
  Result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  return r;
}

std::string good() { return " --plugin-path '" + (kToyPlugins / "good").string() + "'"; }
std::string bad() { return " --plugin-path '" + (kToyPlugins / "bad").string() + "'"; }

TEST(CliList, PrintsATableOfTheBricksFound) {
  Result r = bricks("list" + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("KIND"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("toy_fcfs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("First come, first served, toy."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((kToyPlugins / "good" / "libtoy_kv.so").string()), std::string::npos);
}

TEST(CliList, FiltersByKind) {
  Result r = bricks("list --kind kv" + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("toy_kv"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("toy_fcfs"), std::string::npos) << r.out;
  EXPECT_EQ(bricks("list --kind schedulers" + good()).rc, 2);
}

TEST(CliList, ReportsBrokenPluginsAndStillSucceeds) {
  Result r = bricks("list" + bad());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("still_good"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Broken plugins:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("libsegv.so: crashed with SIGSEGV while loading"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plugin ABI 2.0 is not compatible with host ABI 1." +
                       std::to_string(BRICKS_ABI_MINOR)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("could not be loaded"), std::string::npos) << r.err;
}

TEST(CliList, ReportsVtablesTheHostCannotCall) {
  Result r = bricks("list" + bad());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("libnull_slot.so: brick 'null_slot' (kv): kv vtable slot "
                       "build_page_table is NULL"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("libshort_vtable.so: brick 'short_vtable' (scheduler): scheduler vtable "
                       "struct_size 24 is smaller than bricks_scheduler_vtable"),
            std::string::npos)
      << r.out;
}

// A manifest naming bricks whose plugins were refused is invalid, with the refusal shown,
// rather than crashing when the engine would call the missing slot.
TEST(CliValidate, ManifestUsingRefusedBricksFailsCleanly) {
  bricks::host::testing::TempDir dir;
  const fs::path m = dir / "refused.textproto";
  std::ofstream(m) << "name: \"refused\"\n"
                      "model { builtin: \"tiny\" }\n"
                      "device { kind: \"cpu\" }\n"
                      "bricks { kind: \"scheduler\" name: \"short_vtable\" }\n"
                      "bricks { kind: \"kv\" name: \"null_slot\" }\n"
                      "bricks { kind: \"attention\" name: \"reference\" }\n"
                      "workload { generator { num_requests: 1 prompt_len_min: 4 "
                      "prompt_len_max: 4 output_len_min: 1 output_len_max: 1 } }\n";
  Result r = bricks("validate '" + m.string() + "'" + bad());
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("unknown kv brick 'null_slot'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown scheduler brick 'short_vtable'"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("libnull_slot.so not loaded: brick 'null_slot' (kv): kv vtable slot "
                       "build_page_table is NULL"),
            std::string::npos)
      << r.err;
}

// A pin is fail-closed: one that names no plugin file makes the manifest invalid, and the
// error names the pin and where plugins were looked for.
TEST(CliValidate, PinNamingNoPluginFileIsAnError) {
  bricks::host::testing::TempDir dir;
  const fs::path m = dir / "pinned.textproto";
  std::ofstream(m) << "name: \"pinned\"\n"
                      "pins { file: \"libnowhere.so\" sha256: \"" +
                          std::string(64, 'a') +
                          "\" }\n"
                          "model { builtin: \"tiny\" }\n"
                          "device { kind: \"cpu\" }\n"
                          "bricks { kind: \"scheduler\" name: \"toy_fcfs\" }\n"
                          "bricks { kind: \"kv\" name: \"toy_kv\" }\n"
                          "bricks { kind: \"attention\" name: \"reference\" }\n";
  Result r = bricks("validate '" + m.string() + "'" + good());
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("pinned.textproto:2:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pin libnowhere.so matches no plugin file on the search path (searched: " +
                       (kToyPlugins / "good").string()),
            std::string::npos)
      << r.out;
}

// A file named like a plugin that is not a library gets one readable line.
TEST(CliList, NonElfFileIsReportedInOneLine) {
  bricks::host::testing::TempDir dir;
  std::ofstream(dir / "libjunk.so") << std::string(200, 'x');
  Result r = bricks("list --plugin-path '" + dir.path().string() + "'" + good());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(
      r.out.find((dir / "libjunk.so").string() + ": not a shared library (invalid ELF header)\n"),
      std::string::npos)
      << r.out;
}

// Group-writable plugins are refused with the fix named, and load with the flag.
TEST(CliList, GroupWritablePluginNeedsTheFlag) {
  bricks::host::testing::TempDir dir;
  const fs::path file = dir / "libtoy_kv.so";
  fs::copy_file(kToyPlugins / "good" / "libtoy_kv.so", file);
  fs::permissions(file, static_cast<fs::perms>(0775));
  const std::string path = " --plugin-path '" + dir.path().string() + "'";
  Result r = bricks("list --kind kv" + path);
  EXPECT_NE(r.out.find(file.string() + ": file is group-writable (mode 0775"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("`chmod g-w " + file.string() + "`"), std::string::npos) << r.out;
  r = bricks("list --kind kv --allow-group-writable-plugins" + path);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("toy_kv"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Broken plugins:"), std::string::npos) << r.out;
}

TEST(CliList, JsonListsBricksAndBrokenFiles) {
  Result r = bricks("list --json" + bad() + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  bool toy = false;
  for (const auto& b : j.at("bricks")) toy = toy || b.at("name") == "toy_fcfs";
  EXPECT_TRUE(toy) << r.out;
  EXPECT_GE(j.at("broken").size(), 6u) << r.out;
}

TEST(CliList, HelpExplainsTheSearchPath) {
  Result r = bricks("list --help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("BRICKS_PLUGIN_PATH"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--plugin-path"), std::string::npos) << r.out;
}

TEST(CliInspect, ShowsParamsCapabilitiesAndOrigin) {
  Result r = bricks("inspect toy_fcfs" + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char* expected : {"scheduler toy_fcfs 1.0.0", "toy_sched 1.2.3 (license MIT)",
                               "Requires:  kv.blocks", "max_num_seqs", "[1, 1024]", "fcfs|lifo",
                               "\"toy\"", "Order in which requests are admitted."}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << " in\n" << r.out;
  }
}

TEST(CliInspect, RequiredParamsAreMarked) {
  Result r = bricks("inspect needs_seed --kind scheduler" + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("required"), std::string::npos) << r.out;
}

TEST(CliInspect, UnknownNameSuggestsOneAndFails) {
  Result r = bricks("inspect toy_fcf" + good());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("unknown brick 'toy_fcf' (did you mean 'toy_fcfs'?)"), std::string::npos)
      << r.err;
}

TEST(CliInspect, JsonHasTheParams) {
  Result r = bricks("inspect toy_kv --json" + good());
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("name"), "toy_kv");
  EXPECT_EQ(j.at("kind"), "kv");
  EXPECT_EQ(j.at("params").at(0).at("name"), "block_size");
  EXPECT_EQ(j.at("params").at(0).at("default"), 4);
  EXPECT_EQ(j.at("provides"), (nlohmann::json{"kv.blocks", "device.cpu"}));
}

// An installed tree names no path of the build or source tree: the bricks and bricks-conform
// binaries find the build tree's plugins at run time, and the SDK's pkg-config and CMake
// files are relative.
TEST(CliInstall, InstalledFilesNameNoBuildOrSourceTreePath) {
  bricks::host::testing::TempDir dir;
  const fs::path prefix = dir / "prefix";
  for (const char* part : {"tools/bricks", "tools/conform", "sdk"}) {
    const std::string command = "'" BRICKS_CMAKE "' --install '" +
                                (fs::path(BRICKS_BINARY_DIR) / part).string() + "' --prefix '" +
                                prefix.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = slurp(entry.path());
#if defined(__SANITIZE_ADDRESS__)
    // A sanitizer build keeps line tables and source names for its reports in every
    // binary; the release build is the one whose binaries must name no tree.
    if (bytes.rfind("\x7f" "ELF", 0) == 0) continue;
#endif
    EXPECT_EQ(bytes.find(BRICKS_SOURCE_DIR), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(BRICKS_BINARY_DIR), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 10u);
}

}  // namespace
