// The scanner against plugins broken on purpose (tests/support/test_plugins): each gives
// its one-line reason, this process survives, and the good plugins beside them are listed.
#include "host/scanner.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "host/sha256.h"
#include "toy_plugins.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;

using testing::kToyPlugins;

// The reason given for the file whose name is `file_name`; "" when it is not broken.
std::string reason_for(const Catalogue& c, const std::string& file_name) {
  for (const BrokenPlugin& p : c.broken) {
    if (fs::path(p.file).filename() == file_name) return p.reason;
  }
  return "";
}

bool has_brick(const Catalogue& c, bricks_kind kind, const std::string& name) {
  return c.find(kind, name) != nullptr;
}

class BadPluginDir : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LoadOptions options;
    options.search_path = {kToyPlugins / "bad"};
    options.scan_timeout_s = 30;
    catalogue_ = new Catalogue(scan_plugins(options));
  }
  static void TearDownTestSuite() {
    delete catalogue_;
    catalogue_ = nullptr;
  }
  static const Catalogue& catalogue() { return *catalogue_; }

 private:
  static Catalogue* catalogue_;
};
Catalogue* BadPluginDir::catalogue_ = nullptr;

TEST_F(BadPluginDir, GoodPluginsBesideBrokenOnesAreListed) {
  EXPECT_TRUE(has_brick(catalogue(), BRICKS_KIND_KV, "still_good"));
  EXPECT_TRUE(has_brick(catalogue(), BRICKS_KIND_SCHEDULER, "dup"));
}

TEST_F(BadPluginDir, WrongAbiMajorNamesBothVersions) {
  EXPECT_EQ(reason_for(catalogue(), "libabi_major.so"),
            "plugin ABI 2.0 is not compatible with host ABI 1." + std::to_string(BRICKS_ABI_MINOR) +
                " (major versions differ); rebuild the plugin against this SDK");
}

TEST_F(BadPluginDir, NewerAbiMinorNamesBothVersions) {
  std::string reason = reason_for(catalogue(), "libabi_minor.so");
  const std::string host = "1." + std::to_string(BRICKS_ABI_MINOR);
  const std::string plugin = "1." + std::to_string(BRICKS_ABI_MINOR + 1);
  EXPECT_NE(reason.find("plugin ABI " + plugin + " is newer than host ABI " + host),
            std::string::npos)
      << reason;
}

TEST_F(BadPluginDir, MissingEntrySymbolIsNamed) {
  std::string reason = reason_for(catalogue(), "libno_entry.so");
  EXPECT_NE(reason.find("no `bricks_plugin_entry` symbol"), std::string::npos) << reason;
}

TEST_F(BadPluginDir, SegfaultWhileLoadingIsReported) {
  EXPECT_EQ(reason_for(catalogue(), "libsegv.so"), "crashed with SIGSEGV while loading");
}

TEST_F(BadPluginDir, AbortWhileLoadingIsReported) {
  EXPECT_EQ(reason_for(catalogue(), "libaborts.so"), "crashed with SIGABRT while loading");
}

TEST_F(BadPluginDir, DuplicateBrickNamesBothFilesAndTheFirstWins) {
  const BrickInfo* dup = catalogue().find(BRICKS_KIND_SCHEDULER, "dup");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(fs::path(dup->file).filename(), "libdup_one.so");
  std::string reason = reason_for(catalogue(), "libdup_two.so");
  EXPECT_NE(reason.find("declares scheduler 'dup'"), std::string::npos) << reason;
  EXPECT_NE(reason.find((kToyPlugins / "bad" / "libdup_one.so").string()), std::string::npos)
      << reason;
  size_t count = 0;
  for (const BrickInfo& b : catalogue().bricks) count += b.name == "dup" ? 1 : 0;
  EXPECT_EQ(count, 1u);
}

// A third-party vtable the host would call through a NULL slot: refused at scan, in one
// line naming the brick, its kind and the slot, instead of crashing the engine later.
TEST_F(BadPluginDir, NullRequiredSlotNamesBrickKindAndSlot) {
  EXPECT_EQ(reason_for(catalogue(), "libnull_slot.so"),
            "brick 'null_slot' (kv): kv vtable slot build_page_table is NULL (a required "
            "slot); rebuild the plugin against this SDK");
  EXPECT_FALSE(has_brick(catalogue(), BRICKS_KIND_KV, "null_slot"));
}

TEST_F(BadPluginDir, ShortVtableNamesBrickKindAndMissingSlot) {
  std::string reason = reason_for(catalogue(), "libshort_vtable.so");
  EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
  EXPECT_NE(reason.find("brick 'short_vtable' (scheduler): scheduler vtable struct_size 24 is "
                        "smaller than bricks_scheduler_vtable of ABI 1.0 (40 bytes), so it has "
                        "no slot schedule"),
            std::string::npos)
      << reason;
  EXPECT_FALSE(has_brick(catalogue(), BRICKS_KIND_SCHEDULER, "short_vtable"));
}

TEST_F(BadPluginDir, WorldWritableFileIsRefusedUnloaded) {
  std::string reason = reason_for(catalogue(), "libworld_writable.so");
  EXPECT_NE(reason.find("file is world-writable"), std::string::npos) << reason;
  EXPECT_FALSE(has_brick(catalogue(), BRICKS_KIND_SCHEDULER, "world_writable"));
}

TEST(Scanner, HangingPluginTimesOutAndTheRestAreListed) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "hang", kToyPlugins / "good"};
  options.scan_timeout_s = 2;
  Catalogue c = scan_plugins(options);
  EXPECT_EQ(reason_for(c, "libhangs.so"),
            "timed out after 2 s while loading (the scanning process was killed); a static "
            "initializer or the entry function does not return");
  EXPECT_TRUE(has_brick(c, BRICKS_KIND_SCHEDULER, "toy_fcfs"));
  EXPECT_TRUE(has_brick(c, BRICKS_KIND_KV, "toy_kv"));
}

TEST(Scanner, HashMismatchIsRefusedNamingBothHashes) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "good"};
  const std::string wrong(64, 'a');
  options.sha256_pins = {{"libtoy_kv.so", wrong}};
  Catalogue c = scan_plugins(options);
  std::string reason = reason_for(c, "libtoy_kv.so");
  EXPECT_NE(reason.find(wrong), std::string::npos) << reason;
  EXPECT_NE(reason.find(sha256_file(kToyPlugins / "good" / "libtoy_kv.so")), std::string::npos)
      << reason;
  EXPECT_FALSE(has_brick(c, BRICKS_KIND_KV, "toy_kv"));
  EXPECT_TRUE(has_brick(c, BRICKS_KIND_SCHEDULER, "toy_fcfs"));
}

TEST(Scanner, CopiesEverythingTheDescriptorSays) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "good"};
  Catalogue c = scan_plugins(options);
  EXPECT_TRUE(c.broken.empty());
  const BrickInfo* b = c.find(BRICKS_KIND_SCHEDULER, "toy_fcfs");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->version, "1.0.0");
  EXPECT_EQ(b->plugin_name, "toy_sched");
  EXPECT_EQ(b->plugin_version, "1.2.3");
  EXPECT_EQ(b->license, "MIT");
  EXPECT_EQ(b->requires_, std::vector<std::string>{"kv.blocks"});
  ASSERT_EQ(b->params.size(), 6u);
  const ParamInfo* policy = b->find_param("policy");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->type, BRICKS_PARAM_ENUM);
  EXPECT_EQ(policy->choices, (std::vector<std::string>{"fcfs", "lifo"}));
  EXPECT_EQ(policy->default_string, "fcfs");
}

TEST(Scanner, InProcessScanGivesTheSameBricks) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "good"};
  Catalogue child = scan_plugins(options);
  options.scan_in_child = false;
  Catalogue here = scan_plugins(options);
  ASSERT_EQ(child.bricks.size(), here.bricks.size());
  for (size_t i = 0; i < here.bricks.size(); ++i) {
    EXPECT_EQ(child.bricks[i].name, here.bricks[i].name);
    EXPECT_EQ(child.bricks[i].file, here.bricks[i].file);
  }
}

}  // namespace
}  // namespace bricks::host
