// Builds sdk/examples/minimal the way a brick author would: install this build's SDK into
// a temporary prefix, configure the example with find_package(BricksSDK), build it, then
// load the .so with the Registry, wire it to a kv brick and let it schedule.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "example_build.h"
#include "host/registry.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;
using example::build_example;
using example::q;
using example::run;
using example::slurp;

const fs::path kPlugins = BRICKS_TEST_PLUGIN_DIR;

bricks_request_view request(uint64_t id, bricks_request_state state, int32_t prompt,
                            int32_t computed, int32_t max_new) {
  bricks_request_view r{};
  r.id = id;
  r.state = state;
  r.prompt_len = prompt;
  r.num_tokens = prompt + (computed > prompt ? computed - prompt : 0);
  r.num_computed = computed;
  r.max_new_tokens = max_new;
  return r;
}

// Loads the example from `dir`, wires it to toy_kv (8 blocks of 4 tokens) and checks one
// step's plan. The Registry wires what it is told: capabilities are a manifest check, which
// test_sdk_example_run.cpp covers.
void load_and_schedule(const fs::path& dir) {
  LoadOptions options;
  options.search_path = {dir, kPlugins / "good"};
  Registry registry(options);
  ASSERT_TRUE(registry.catalogue().broken.empty())
      << registry.catalogue().broken[0].file << ": " << registry.catalogue().broken[0].reason;
  const BrickInfo& info = registry.find(BRICKS_KIND_SCHEDULER, "simple_fcfs");
  EXPECT_EQ(info.plugin_name, "minimal_example");
  EXPECT_EQ(info.requires_, std::vector<std::string>{"kv.paged"});

  auto kv = registry.create(BRICKS_KIND_KV, "toy_kv", {{"block_size", int_value(4)}});
  auto sched = registry.create(BRICKS_KIND_SCHEDULER, "simple_fcfs",
                               {{"max_num_batched_tokens", int_value(16)}});
  sched->wire(kv.get());
  bricks_kv_geometry geometry{sizeof(bricks_kv_geometry), 8, 0, 0, 1, 0};
  check(kv->vtable<bricks_kv_vtable>()->configure(kv->instance(), &geometry), "configure");

  // Step 0, budget 16 tokens: request 1 (6-token prompt) and request 2 (10) fill the
  // budget, so request 3 waits; request 4 can never fit (30 + 10 - 1 = 39 tokens of KV, the
  // last token is never stored, > 8 blocks * 4) and fails.
  bricks_request_view step0[] = {
      request(1, BRICKS_REQ_WAITING, 6, 0, 2), request(2, BRICKS_REQ_WAITING, 10, 0, 6),
      request(3, BRICKS_REQ_WAITING, 4, 0, 4), request(4, BRICKS_REQ_WAITING, 30, 0, 10)};
  bricks_sched_input input{sizeof(bricks_sched_input), step0, 4, 0.0, 0};
  bricks_step_plan plan{};
  const auto* vt = sched->vtable<bricks_scheduler_vtable>();
  check(vt->schedule(sched->instance(), &input, &plan), "schedule");
  ASSERT_EQ(plan.num_items, 2);
  EXPECT_EQ(plan.items[0].request_id, 1u);
  EXPECT_EQ(plan.items[0].num_tokens, 6);
  EXPECT_EQ(plan.items[1].request_id, 2u);
  EXPECT_EQ(plan.items[1].num_tokens, 10);
  ASSERT_EQ(plan.num_failed, 1);
  EXPECT_EQ(plan.failed[0].request_id, 4u);
  EXPECT_NE(std::string(plan.failed[0].reason).find("39 tokens"), std::string::npos);
  bricks_step_result done{sizeof(bricks_step_result), nullptr, 0, 0.01};
  vt->on_step_done(sched->instance(), &done);

  // Step 1: both decode one token; request 3 now fits the budget and the KV reservation
  // (3 free blocks >= 1 still owed to request 2 + 2 for request 3's 7 tokens of KV).
  bricks_request_view step1[] = {request(1, BRICKS_REQ_RUNNING, 6, 6, 2),
                                 request(2, BRICKS_REQ_RUNNING, 10, 10, 6),
                                 request(3, BRICKS_REQ_WAITING, 4, 0, 4)};
  step1[0].num_tokens = 7;
  step1[1].num_tokens = 11;
  input = {sizeof(bricks_sched_input), step1, 3, 0.01, 1};
  check(vt->schedule(sched->instance(), &input, &plan), "schedule");
  ASSERT_EQ(plan.num_items, 3);
  EXPECT_EQ(plan.items[0].num_tokens, 1);
  EXPECT_EQ(plan.items[1].num_tokens, 1);
  EXPECT_EQ(plan.items[2].request_id, 3u);
  EXPECT_EQ(plan.items[2].num_tokens, 4);

  // Step 2: request 5 (4 + 4 tokens, 2 blocks) fits the budget but not the reservation:
  // after the decodes 1 block is free and request 2 may still need it. It waits.
  bricks_request_view step2[] = {
      request(1, BRICKS_REQ_RUNNING, 6, 7, 2), request(2, BRICKS_REQ_RUNNING, 10, 11, 6),
      request(3, BRICKS_REQ_RUNNING, 4, 4, 4), request(5, BRICKS_REQ_WAITING, 4, 0, 4)};
  step2[0].num_tokens = 8;
  step2[1].num_tokens = 12;
  step2[2].num_tokens = 5;
  input = {sizeof(bricks_sched_input), step2, 4, 0.02, 2};
  check(vt->schedule(sched->instance(), &input, &plan), "schedule");
  ASSERT_EQ(plan.num_items, 3);
  for (int i = 0; i < 3; ++i) EXPECT_NE(plan.items[i].request_id, 5u);
  bricks_kv_stats stats{};
  kv->vtable<bricks_kv_vtable>()->stats(kv->instance(), &stats);
  EXPECT_EQ(stats.free_device_blocks, 1);

  // Unwired, it refuses with a message that says what to do.
  auto lonely = registry.create(BRICKS_KIND_SCHEDULER, "simple_fcfs", {});
  bricks_error* err =
      lonely->vtable<bricks_scheduler_vtable>()->schedule(lonely->instance(), &input, &plan);
  EXPECT_NE(take_error(err).find("no kv brick is wired to it"), std::string::npos);
}

TEST(SdkExample, BuildsWithGccAgainstTheInstalledSdkAndSchedules) {
  testing::TempDir tmp;
  fs::path dir = build_example(tmp, "-DCMAKE_CXX_FLAGS='-Wall -Wextra -Wpedantic -Werror'");
  if (dir.empty()) return;
  load_and_schedule(dir);
}

// The pkg-config route: the SDK installed, then moved (the .pc file is relocatable), and the
// example compiled with nothing but the flags pkg-config gives.
TEST(SdkExample, BuildsWithPkgConfigFromAMovedInstall) {
  if (std::system("pkg-config --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "pkg-config is not installed";
  }
  testing::TempDir tmp;
  const fs::path first = tmp / "first";
  if (!run(std::string(BRICKS_CMAKE) + " --install " + q(fs::path(BRICKS_BINARY_DIR) / "sdk") +
               " --prefix " + q(first),
           tmp / "install.log")) {
    return;
  }
  const fs::path moved = tmp / "moved";
  fs::rename(first, moved);
  fs::path pc_dir;
  for (const auto& entry : fs::recursive_directory_iterator(moved)) {
    if (entry.path().filename() == "bricks-sdk.pc") pc_dir = entry.path().parent_path();
  }
  ASSERT_FALSE(pc_dir.empty()) << "no bricks-sdk.pc installed under " << moved;
  const std::string pkg = "PKG_CONFIG_PATH=" + q(pc_dir) + " pkg-config ";
  const fs::path out = tmp / "out";
  fs::create_directories(out);
  const std::string compile =
      "g++ $(" + pkg + "--cflags bricks-sdk) $(" + pkg +
      "--variable=cxx_std bricks-sdk) -Wall -Wextra -Wpedantic -Werror -O1 -fPIC -shared " +
      q(fs::path(BRICKS_SOURCE_DIR) / "sdk/examples/minimal/simple_fcfs.cpp") + " -o " +
      q(out / "libsimple_fcfs.so") + " $(" + pkg + "--libs bricks-sdk)";
  if (!run(compile, tmp / "compile.log")) return;
  // Only the entry symbol is exported (version nodes, type A, aside): without the version
  // script from --libs, inline and template functions of the C++ layer would be too.
  ASSERT_TRUE(run("nm -D --defined-only " + q(out / "libsimple_fcfs.so") +
                      " | grep -v ' bricks_plugin_entry$' | grep -v ' A ' >" +
                      q(tmp / "extra.txt") + " ; test ! -s " + q(tmp / "extra.txt"),
                  tmp / "nm.log"))
      << slurp(tmp / "extra.txt");
  load_and_schedule(out);
}

TEST(SdkExample, BuildsWithClangAndLibcxxAndLoadsIntoThisHost) {
  const std::string clang = BRICKS_CLANGXX;
  if (clang.empty()) GTEST_SKIP() << "clang++ was not found when this build was configured";
  testing::TempDir tmp;
  fs::path dir = build_example(tmp, "-DCMAKE_CXX_COMPILER='" + clang +
                                        "' -DCMAKE_CXX_FLAGS='-stdlib=libc++ -Wall -Wextra "
                                        "-Wpedantic -Werror'");
  if (dir.empty()) return;
  load_and_schedule(dir);
}

}  // namespace
}  // namespace bricks::host
