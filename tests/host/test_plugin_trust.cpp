// Who may change a plugin before it loads (every directory above it, its owner, its group),
// pins that fail closed, and the loader's one-line message for a file that is no library.
// The plugins are copies of a built test plugin, placed in private temp directories.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/plugin_trust.h"
#include "host/scanner.h"
#include "host/sha256.h"
#include "temp_dir.h"
#include "toy_plugins.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::kToyPlugins;
const fs::path kToyKv = kToyPlugins / "good" / "libtoy_kv.so";

// A copy of the toy kv plugin at `dir`/libtoy_kv.so (directories made as needed), mode 0755.
fs::path place_plugin(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path file = dir / "libtoy_kv.so";
  fs::copy_file(kToyKv, file, fs::copy_options::overwrite_existing);
  fs::permissions(file, static_cast<fs::perms>(0755));
  return file;
}

void set_mode(const fs::path& p, unsigned mode) { ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p; }

LoadOptions options_for(const std::vector<fs::path>& dirs) {
  LoadOptions options;
  options.search_path = dirs;
  options.scan_timeout_s = 30;
  return options;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(PluginTrust, TheBuildTreesPluginsAreTrusted) {
  EXPECT_EQ(untrusted_file_reason(kToyKv, false), "");
  LoadOptions options = options_for({kToyPlugins / "good"});
  EXPECT_TRUE(find_plugin_files(options).refused.empty());
}

TEST(PluginTrust, WorldWritableGrandparentIsRefused) {
  TempDir dir;
  place_plugin(dir / "open" / "mid" / "plugins");
  set_mode(dir / "open", 0777);
  PluginFiles files = find_plugin_files(options_for({dir / "open" / "mid" / "plugins"}));
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  const std::string& reason = files.refused[0].reason;
  EXPECT_TRUE(contains(reason, "directory " + (dir / "open").string() +
                                   " is world-writable "
                                   "(mode 0777) and not a sticky root-owned directory like /tmp"))
      << reason;
  EXPECT_TRUE(contains(reason, "`chmod o-w " + (dir / "open").string() + "`")) << reason;
}

// A folder anyone may write cannot hide behind a link: the path as given is checked too.
TEST(PluginTrust, LinkedDirectoryUnderAWorldWritableOneIsRefused) {
  TempDir dir;
  place_plugin(dir / "real" / "plugins");
  fs::create_directory(dir / "open");
  fs::create_directory_symlink(dir / "real" / "plugins", dir / "open" / "plugins");
  set_mode(dir / "open", 0777);
  PluginFiles files = find_plugin_files(options_for({dir / "open" / "plugins"}));
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  EXPECT_TRUE(contains(files.refused[0].reason, (dir / "open").string() + " is world-writable"));
}

// Like /tmp: a sticky directory only root owns lets nobody rename another's folder.
TEST(PluginTrust, StickyRootOwnedAncestorIsAccepted) {
  TempDir dir;
  const fs::path file = place_plugin(dir / "shared" / "plugins");
  set_mode(dir / "shared", 01777);
  if (::geteuid() == 0) {
    EXPECT_EQ(untrusted_file_reason(file, false), "");
    LoadOptions options = options_for({dir / "shared" / "plugins"});
    Catalogue c = scan_plugins(options);
    EXPECT_TRUE(c.broken.empty()) << c.broken[0].reason;
    EXPECT_NE(c.find(BRICKS_KIND_KV, "toy_kv"), nullptr);
  } else {
    // Owned by this user, not root: sticky alone is not enough.
    EXPECT_TRUE(contains(untrusted_file_reason(file, false), "not a sticky root-owned directory"));
  }
  // The temp directory itself (/tmp, 1777 root) sits above every TempDir.
  struct stat st {};
  ASSERT_EQ(::stat(fs::temp_directory_path().c_str(), &st), 0);
  if ((st.st_mode & S_ISVTX) != 0 && st.st_uid == 0) {
    EXPECT_EQ(untrusted_dir_reason(fs::temp_directory_path(), false), "");
  }
}

TEST(PluginTrust, GroupWritableFileIsRefusedUnlessAllowed) {
  TempDir dir;
  const fs::path file = place_plugin(dir / "plugins");
  set_mode(file, 0775);
  LoadOptions options = options_for({dir / "plugins"});
  PluginFiles files = find_plugin_files(options);
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  const std::string& reason = files.refused[0].reason;
  EXPECT_TRUE(contains(reason, "file is group-writable (mode 0775")) << reason;
  EXPECT_TRUE(contains(reason, "`chmod g-w " + file.string() + "`")) << reason;
  EXPECT_TRUE(contains(reason, "--allow-group-writable-plugins")) << reason;

  options.allow_group_writable = true;
  files = find_plugin_files(options);
  EXPECT_EQ(files.files.size(), 1u);
  EXPECT_TRUE(files.refused.empty());
}

TEST(PluginTrust, GroupWritableDirectoryIsRefusedUnlessAllowed) {
  TempDir dir;
  place_plugin(dir / "team" / "plugins");
  set_mode(dir / "team", 0775);
  LoadOptions options = options_for({dir / "team" / "plugins"});
  PluginFiles files = find_plugin_files(options);
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  const std::string& reason = files.refused[0].reason;
  EXPECT_TRUE(
      contains(reason, "directory " + (dir / "team").string() + " is group-writable (mode 0775"))
      << reason;
  EXPECT_TRUE(contains(reason, "`chmod g-w " + (dir / "team").string() + "`")) << reason;

  options.allow_group_writable = true;
  EXPECT_EQ(find_plugin_files(options).files.size(), 1u);
}

TEST(PluginTrust, LinkToAGroupWritableFileIsRefused) {
  TempDir dir;
  const fs::path target = place_plugin(dir / "elsewhere");
  set_mode(target, 0775);
  fs::create_directory(dir / "plugins");
  fs::create_symlink(target, dir / "plugins" / "libtoy_kv.so");
  PluginFiles files = find_plugin_files(options_for({dir / "plugins"}));
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  EXPECT_TRUE(contains(files.refused[0].reason,
                       "the link's target " + target.string() + " is group-writable"))
      << files.refused[0].reason;
}

TEST(PluginTrust, FileOrDirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user (uid 65534)";
  TempDir dir;
  const fs::path file = place_plugin(dir / "plugins");
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  std::string reason = untrusted_file_reason(file, false);
  EXPECT_TRUE(contains(reason, "file is owned by uid 65534")) << reason;
  EXPECT_TRUE(contains(reason, "`chown ")) << reason;

  ASSERT_EQ(::chown(file.c_str(), 0, 0), 0);
  ASSERT_EQ(::chown((dir / "plugins").c_str(), 65534, 65534), 0);
  PluginFiles files = find_plugin_files(options_for({dir / "plugins"}));
  EXPECT_TRUE(files.files.empty());
  ASSERT_EQ(files.refused.size(), 1u);
  reason = files.refused[0].reason;
  EXPECT_TRUE(
      contains(reason, "directory " + (dir / "plugins").string() + " is owned by uid 65534"))
      << reason;
}

// The pinned copy fails its hash: the unpinned copy later on the path must not stand in.
TEST(PluginPins, PinnedCopyThatMismatchesHasNoFallback) {
  TempDir dir;
  const fs::path pinned = place_plugin(dir / "first");
  place_plugin(dir / "second");
  LoadOptions options = options_for({dir / "second", dir / "first"});
  options.sha256_pins = {{pinned.string(), std::string(64, 'a')}};
  Catalogue c = scan_plugins(options);
  EXPECT_EQ(c.find(BRICKS_KIND_KV, "toy_kv"), nullptr);
  ASSERT_EQ(c.broken.size(), 2u);
  EXPECT_TRUE(
      contains(c.broken[0].reason, "the manifest pins libtoy_kv.so by its path " + pinned.string()))
      << c.broken[0].reason;
  EXPECT_TRUE(contains(c.broken[1].reason, "SHA-256 mismatch")) << c.broken[1].reason;
  ASSERT_EQ(c.pin_problems.size(), 1u);
  EXPECT_EQ(c.pin_problems[0].pin, pinned.string());
  EXPECT_TRUE(contains(c.pin_problems[0].reason, "pinned plugin " + pinned.string() +
                                                     " was refused, and no other copy is loaded"))
      << c.pin_problems[0].reason;

  // With the right hash only the pinned copy loads, though the other comes first.
  options.sha256_pins = {{pinned.string(), sha256_file(pinned)}};
  c = scan_plugins(options);
  const BrickInfo* kv = c.find(BRICKS_KIND_KV, "toy_kv");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->file, pinned.string());
  EXPECT_TRUE(c.pin_problems.empty());
}

TEST(PluginPins, PinNamingNoFileIsAnError) {
  TempDir dir;
  place_plugin(dir / "plugins");
  LoadOptions options = options_for({dir / "plugins"});
  options.sha256_pins = {{"libnowhere.so", std::string(64, 'a')},
                         {(dir / "gone" / "libtoy_kv.so").string(), std::string(64, 'a')}};
  PluginFiles files = find_plugin_files(options);
  ASSERT_EQ(files.pin_problems.size(), 2u);
  for (const PinProblem& p : files.pin_problems) {
    EXPECT_TRUE(contains(p.reason, "pin " + p.pin +
                                       " matches no plugin file on the search path "
                                       "(searched: " +
                                       (dir / "plugins").string() + ")"))
        << p.reason;
  }
  // A name pinned by a path that does not exist shuts the other copies out too.
  EXPECT_TRUE(files.files.empty());
}

TEST(PluginLoader, NonElfFileGivesOneCleanLine) {
  TempDir dir;
  fs::create_directory(dir / "plugins");
  std::ofstream(dir / "plugins" / "libjunk.so")
      << "This is a text file that someone named like a plugin library; it is long enough "
         "that the dynamic loader reads a whole ELF header's worth of bytes from it.\n";
  LoadOptions options = options_for({dir / "plugins"});
  for (bool in_child : {true, false}) {
    options.scan_in_child = in_child;
    Catalogue c = scan_plugins(options);
    ASSERT_EQ(c.broken.size(), 1u);
    EXPECT_EQ(c.broken[0].file, (dir / "plugins" / "libjunk.so").string());
    EXPECT_EQ(c.broken[0].reason, "not a shared library (invalid ELF header)");
  }
}

}  // namespace
}  // namespace bricks::host
