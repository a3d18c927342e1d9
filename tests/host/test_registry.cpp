// Creating bricks in this process: lookup errors, params, create failures, wiring and the
// host API the bricks see.
#include "host/registry.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <sstream>
#include "toy_plugins.h"

namespace bricks::host {
namespace {

namespace fs = std::filesystem;

using testing::kToyPlugins;

const Registry& good_registry() {
  static const Registry* registry = [] {
    LoadOptions options;
    options.search_path = {kToyPlugins / "good"};
    return new Registry(options);
  }();
  return *registry;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const BrickError& e) {
    return e.what();
  }
  return "(no error)";
}

bricks_request_view request(uint64_t id, int32_t prompt) {
  bricks_request_view r{};
  r.id = id;
  r.prompt_len = prompt;
  r.num_tokens = prompt;
  r.max_new_tokens = 4;
  return r;
}

TEST(Registry, FindsTheBricksOfTheGoodDirectory) {
  const Catalogue& c = good_registry().catalogue();
  EXPECT_TRUE(c.broken.empty());
  EXPECT_NE(c.find(BRICKS_KIND_SCHEDULER, "toy_fcfs"), nullptr);
  EXPECT_NE(c.find(BRICKS_KIND_KV, "toy_kv"), nullptr);
  EXPECT_EQ(good_registry().find(BRICKS_KIND_KV, "toy_kv").plugin_name, "toy_kv");
}

TEST(Registry, UnknownBrickSuggestsTheClosestName) {
  std::string m = error_of([] { good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcf", {}); });
  EXPECT_EQ(m, "unknown scheduler 'toy_fcf' (did you mean 'toy_fcfs'?)");
  m = error_of([] { good_registry().create(BRICKS_KIND_SCHEDULER, "toy_kv", {}); });
  EXPECT_NE(m.find("there is a kv of that name"), std::string::npos) << m;
  m = error_of([] { good_registry().create(BRICKS_KIND_ROUTER, "topk", {}); });
  EXPECT_EQ(m, "unknown router 'topk'; no router bricks were found");
}

TEST(Registry, BadParamsNameTheBrickAndTheParam) {
  std::string m = error_of([] {
    good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcfs", {{"policy", enum_value("lifoo")}});
  });
  EXPECT_EQ(m,
            "scheduler 'toy_fcfs': param 'policy': 'lifoo' is not one of 'fcfs', 'lifo' "
            "(did you mean 'lifo'?)");
  m = error_of([] { good_registry().create(BRICKS_KIND_SCHEDULER, "needs_seed", {}); });
  EXPECT_NE(m.find("scheduler 'needs_seed': param 'seed' (int) is required"), std::string::npos)
      << m;
}

TEST(Registry, CreateErrorCarriesTheBricksMessage) {
  std::string m = error_of([] { good_registry().create(BRICKS_KIND_SCHEDULER, "throwing", {}); });
  EXPECT_EQ(m,
            "scheduler 'throwing': create failed: the throwing brick refuses every "
            "configuration");
}

TEST(Registry, WiredSchedulerSchedulesThroughItsKvBrick) {
  auto kv = good_registry().create(BRICKS_KIND_KV, "toy_kv", {{"block_size", int_value(4)}});
  auto sched =
      good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcfs", {{"token_budget", int_value(20)}});
  sched->wire(kv.get());
  ASSERT_EQ(kv->vtable_size(), sizeof(bricks_kv_vtable));
  const auto* kvt = kv->vtable<bricks_kv_vtable>();
  bricks_kv_geometry geometry{sizeof(bricks_kv_geometry), 4, 0, 0, 1, 0};
  check(kvt->configure(kv->instance(), &geometry), "configure");

  // 4 blocks of 4 tokens: the 10-token prompt takes 3, the 8-token one does not fit.
  bricks_request_view requests[] = {request(1, 10), request(2, 8), request(3, 4)};
  bricks_sched_input input{sizeof(bricks_sched_input), requests, 3, 0.0, 0};
  bricks_step_plan plan{};
  const auto* st = sched->vtable<bricks_scheduler_vtable>();
  check(st->schedule(sched->instance(), &input, &plan), "schedule");
  ASSERT_EQ(plan.num_items, 2);
  EXPECT_EQ(plan.items[0].request_id, 1u);
  EXPECT_EQ(plan.items[0].num_tokens, 10);
  EXPECT_EQ(plan.items[1].request_id, 3u);
  EXPECT_EQ(plan.items[1].num_tokens, 4);
  bricks_kv_stats stats{};
  kvt->stats(kv->instance(), &stats);
  EXPECT_EQ(stats.free_device_blocks, 0);
}

TEST(Registry, UnwiredSchedulerReturnsTheBricksError) {
  auto sched = good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcfs", {});
  bricks_sched_input input{sizeof(bricks_sched_input), nullptr, 0, 0.0, 0};
  bricks_step_plan plan{};
  bricks_error* err =
      sched->vtable<bricks_scheduler_vtable>()->schedule(sched->instance(), &input, &plan);
  EXPECT_EQ(error_code(err), BRICKS_INVALID_ARGUMENT);
  EXPECT_EQ(error_of([&] { check(err, "toy_fcfs schedule"); }),
            "toy_fcfs schedule: toy_fcfs needs a kv brick wired");
}

TEST(HostApi, WiredGivesTheFirstBrickOfAKindOrZeros) {
  auto kv = good_registry().create(BRICKS_KIND_KV, "toy_kv", {});
  auto kv2 = good_registry().create(BRICKS_KIND_KV, "toy_kv", {});
  auto sched = good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcfs", {});
  const bricks_host_api* api = sched->host_api();
  bricks_brick_ref none = api->wired(api->ctx, BRICKS_KIND_KV);
  EXPECT_EQ(none.vtable, nullptr);
  EXPECT_EQ(none.instance, nullptr);
  sched->wire(kv.get());
  sched->wire(kv2.get());
  bricks_brick_ref ref = api->wired(api->ctx, BRICKS_KIND_KV);
  EXPECT_EQ(ref.kind, BRICKS_KIND_KV);
  EXPECT_EQ(ref.instance, kv->instance());
  EXPECT_EQ(ref.vtable, kv->vtable<void>());
  EXPECT_EQ(api->wired(api->ctx, BRICKS_KIND_ATTENTION).instance, nullptr);
  EXPECT_THROW(sched->wire(nullptr), BrickError);
}

TEST(HostApi, ClockIsSettableAndDefaultsToMonotonic) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "good"};
  options.scan_in_child = false;
  Registry registry(options);
  auto kv = registry.create(BRICKS_KIND_KV, "toy_kv", {});
  const bricks_host_api* api = kv->host_api();
  double a = api->now_s(api->ctx);
  double b = api->now_s(api->ctx);
  EXPECT_LE(a, b);
  double simulated = 41.0;
  registry.set_clock([&] { return simulated += 1.0; });
  EXPECT_EQ(api->now_s(api->ctx), 42.0);  // instances created earlier follow the new clock
  EXPECT_EQ(api->now_s(api->ctx), 43.0);
  registry.set_clock(nullptr);
  EXPECT_LT(api->now_s(api->ctx), 1e12);
}

TEST(HostApi, AlignedAllocationRespectsAlignment) {
  auto kv = good_registry().create(BRICKS_KIND_KV, "toy_kv", {});
  const bricks_host_api* api = kv->host_api();
  for (size_t alignment : {1u, 8u, 64u, 4096u}) {
    void* p = api->alloc_aligned(api->ctx, 100, alignment);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u);
    static_cast<char*>(p)[99] = 1;  // the whole size is usable
    api->free_aligned(api->ctx, p);
  }
  EXPECT_EQ(api->alloc_aligned(api->ctx, 100, 48), nullptr);  // not a power of two
  EXPECT_EQ(api->alloc_aligned(api->ctx, SIZE_MAX, 64), nullptr);
  api->free_aligned(api->ctx, nullptr);
}

TEST(HostApi, ErrorsKeepCodeAndMessage) {
  auto kv = good_registry().create(BRICKS_KIND_KV, "toy_kv", {});
  bricks_error* err = kv->host_api()->error_new(BRICKS_UNSUPPORTED, "no fp8");
  EXPECT_EQ(error_code(err), BRICKS_UNSUPPORTED);
  EXPECT_EQ(error_message(err), "no fp8");
  try {
    check(err, "kv 'toy_kv' plan");
    FAIL() << "expected BrickError";
  } catch (const BrickError& e) {
    EXPECT_EQ(e.code(), BRICKS_UNSUPPORTED);
    EXPECT_STREQ(e.what(), "kv 'toy_kv' plan: no fp8");
  }
  EXPECT_NO_THROW(check(nullptr, "nothing"));
  EXPECT_EQ(take_error(make_error(BRICKS_INTERNAL, nullptr)), "");
}

TEST(HostApi, LogLinesAreTaggedWithTheBrickName) {
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  {
    auto sched = good_registry().create(BRICKS_KIND_SCHEDULER, "toy_fcfs",
                                        {{"label", string_value("hello")}});
    sched->host_api()->log(sched->host_api()->ctx, BRICKS_LOG_WARN, "careful");
  }
  spdlog::set_default_logger(previous);
  EXPECT_NE(out.str().find("info [toy_fcfs] created with label hello"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("warning [toy_fcfs] careful"), std::string::npos) << out.str();
}

TEST(Registry, BrokenPluginsAreInTheCatalogueAndHintedAtInErrors) {
  LoadOptions options;
  options.search_path = {kToyPlugins / "bad", kToyPlugins / "good"};
  Registry registry(options);
  EXPECT_FALSE(registry.catalogue().broken.empty());
  auto kv = registry.create(BRICKS_KIND_KV, "still_good", {});
  EXPECT_NE(kv->instance(), nullptr);
  std::string m = error_of([&] { registry.create(BRICKS_KIND_SCHEDULER, "segv", {}); });
  EXPECT_NE(m.find("run `bricks list` to see why"), std::string::npos) << m;
}

}  // namespace
}  // namespace bricks::host
