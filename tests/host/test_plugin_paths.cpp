#include "host/plugin_paths.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "host/sha256.h"
#include "temp_dir.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Sets BRICKS_PLUGIN_PATH for one test and restores it after.
class EnvPath {
 public:
  explicit EnvPath(const char* value) {
    if (const char* old = std::getenv("BRICKS_PLUGIN_PATH")) old_ = old, had_ = true;
    if (value)
      ::setenv("BRICKS_PLUGIN_PATH", value, 1);
    else
      ::unsetenv("BRICKS_PLUGIN_PATH");
  }
  ~EnvPath() {
    if (had_)
      ::setenv("BRICKS_PLUGIN_PATH", old_.c_str(), 1);
    else
      ::unsetenv("BRICKS_PLUGIN_PATH");
  }

 private:
  std::string old_;
  bool had_ = false;
};

void write_file(const fs::path& p, const std::string& content) { std::ofstream(p) << content; }

TEST(PluginSearchPath, ManifestThenEnvironmentThenInstallThenBuildTree) {
  EnvPath env("/env/one::/env/two");
  auto path = plugin_search_path({"/manifest/a", "/manifest/b"});
  ASSERT_EQ(path.size(), 6u);
  EXPECT_EQ(path[0], "/manifest/a");
  EXPECT_EQ(path[1], "/manifest/b");
  EXPECT_EQ(path[2], "/env/one");
  EXPECT_EQ(path[3], "/env/two");
  EXPECT_EQ(path[4], plugin_install_dir());
  EXPECT_EQ(path[5], plugin_build_dir());
}

// Found from this test program's place in the build tree, not compiled into the host.
TEST(PluginSearchPath, BuildTreeDirIsThisBuildsPlugins) {
  EXPECT_EQ(plugin_build_dir(), std::filesystem::path(BRICKS_PLUGIN_BUILD_DIR));
}

TEST(PluginSearchPath, DropsRepeatsAndWorksWithoutTheVariable) {
  EnvPath env(nullptr);
  auto path = plugin_search_path({"/a", "/a/", "/a/../a"});
  ASSERT_EQ(path.size(), 3u);
  EXPECT_EQ(path[0], "/a");
}

TEST(Sha256, MatchesTheStandardTestVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  TempDir dir;
  write_file(dir / "f", "abc");
  EXPECT_EQ(sha256_file(dir / "f"), sha256_hex("abc"));
}

TEST(FindPluginFiles, TakesOnlyLibSoFilesInSortedOrderOnce) {
  TempDir dir;
  for (const char* name : {"libb.so", "liba.so", "notes.txt", "a.so", "libc.so.1"}) {
    write_file(dir / name, "x");
  }
  fs::create_directory(dir / "libdir.so");
  LoadOptions options;
  options.search_path = {dir.path(), dir.path() / "missing", dir.path()};
  PluginFiles files = find_plugin_files(options);
  ASSERT_EQ(files.files.size(), 2u);
  EXPECT_EQ(files.files[0].filename(), "liba.so");
  EXPECT_EQ(files.files[1].filename(), "libb.so");
  EXPECT_TRUE(files.refused.empty());
}

TEST(FindPluginFiles, RefusesAWorldWritableDirectoryNamingTheFix) {
  TempDir dir;
  fs::create_directory(dir / "open");
  write_file(dir / "open" / "liba.so", "x");
  fs::permissions(dir / "open", fs::perms::others_write, fs::perm_options::add);
  LoadOptions options;
  options.search_path = {dir / "open"};
  PluginFiles files = find_plugin_files(options);
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  EXPECT_EQ(files.refused[0].file, (dir / "open").string());
  EXPECT_NE(
      files.refused[0].reason.find("directory " + (dir / "open").string() + " is world-writable"),
      std::string::npos);
  EXPECT_NE(files.refused[0].reason.find("chmod o-w"), std::string::npos);
}

TEST(FindPluginFiles, RefusesAWorldWritableFile) {
  TempDir dir;
  write_file(dir / "liba.so", "x");
  write_file(dir / "libb.so", "x");
  fs::permissions(dir / "liba.so", fs::perms::others_write, fs::perm_options::add);
  LoadOptions options;
  options.search_path = {dir.path()};
  PluginFiles files = find_plugin_files(options);
  ASSERT_EQ(files.files.size(), 1u);
  EXPECT_EQ(files.files[0].filename(), "libb.so");
  ASSERT_EQ(files.refused.size(), 1u);
  EXPECT_NE(files.refused[0].reason.find("file is world-writable"), std::string::npos);
}

TEST(FindPluginFiles, RefusesALinkIntoAWorldWritableDirectory) {
  TempDir dir;
  fs::create_directory(dir / "open");
  fs::create_directory(dir / "plugins");
  write_file(dir / "open" / "liba.so", "x");
  fs::permissions(dir / "open", fs::perms::others_write, fs::perm_options::add);
  fs::create_symlink(dir / "open" / "liba.so", dir / "plugins" / "liba.so");
  LoadOptions options;
  options.search_path = {dir / "plugins"};
  PluginFiles files = find_plugin_files(options);
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  EXPECT_NE(
      files.refused[0].reason.find("directory " + (dir / "open").string() + " is world-writable"),
      std::string::npos);
}

TEST(FindPluginFiles, PinnedHashMustMatchByNameOrPath) {
  TempDir dir;
  write_file(dir / "liba.so", "abc");
  write_file(dir / "libb.so", "abc");
  const std::string good = sha256_hex("abc");
  const std::string bad(64, '0');
  LoadOptions options;
  options.search_path = {dir.path()};
  options.sha256_pins = {{"liba.so", good}, {(dir / "libb.so").string(), bad}};
  PluginFiles files = find_plugin_files(options);
  ASSERT_EQ(files.files.size(), 1u);
  EXPECT_EQ(files.files[0].filename(), "liba.so");
  ASSERT_EQ(files.refused.size(), 1u);
  const std::string& reason = files.refused[0].reason;
  EXPECT_NE(reason.find("SHA-256 mismatch"), std::string::npos) << reason;
  EXPECT_NE(reason.find(good), std::string::npos) << reason;
  EXPECT_NE(reason.find(bad), std::string::npos) << reason;
}

TEST(FindPluginFiles, UppercasePinsMatch) {
  TempDir dir;
  write_file(dir / "liba.so", "abc");
  std::string upper = sha256_hex("abc");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  LoadOptions options;
  options.search_path = {dir.path()};
  options.sha256_pins = {{"liba.so", upper}};
  EXPECT_EQ(find_plugin_files(options).files.size(), 1u);
}

}  // namespace
}  // namespace bricks::host
