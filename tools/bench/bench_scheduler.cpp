// Scheduler step benchmark: each shipped scheduler wired to a kv brick (block 16), N
// running requests that all decode, one schedule() call per iteration (views refreshed,
// plan applied as the engine would). Every 512 steps the requests restart from a 100-token
// prompt so the pool never runs out; that reset is not timed. Prints numbers; asserts
// nothing.
//
//   bench_scheduler --benchmark_filter=fastswitch
//   BRICKS_BENCH_PLUGIN_DIR=/other/build/plugins bench_scheduler   (bricks from another build,
//                                                                    to compare two versions)
//
// Target: under 20 us per step at 256 running sequences.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_host.h"
#include "bricks/abi.h"

namespace {

using bricks::bench::failed;

bricks_brick_ref g_kv{BRICKS_KIND_KV, nullptr, nullptr};
bricks_brick_ref host_wired(void*, bricks_kind kind) {
  return kind == BRICKS_KIND_KV ? g_kv : bricks_brick_ref{kind, nullptr, nullptr};
}
bricks_host_api g_api = bricks::bench::host_api(&host_wired);

const bricks_brick_desc* find_brick(const char* library) {
  const char* dir = std::getenv("BRICKS_BENCH_PLUGIN_DIR");
  const std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : BRICKS_PLUGIN_BUILD_DIR) + "/" + library;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;
  auto entry = reinterpret_cast<bricks_plugin_entry_fn>(dlsym(handle, BRICKS_ENTRY_SYMBOL));
  return entry != nullptr && entry()->num_bricks > 0 ? &entry()->bricks[0] : nullptr;
}

// Every declared param at its default, except those named in `ints`.
std::vector<bricks_param_value> params(const bricks_brick_desc* d,
                                       const std::vector<std::pair<std::string, int64_t>>& ints) {
  std::vector<bricks_param_value> out;
  for (int32_t i = 0; i < d->num_params; ++i) {
    bricks_param_value v{d->params[i].name, d->params[i].type, d->params[i].default_value};
    for (const auto& [name, value] : ints) {
      if (name == v.name) v.value.i = value;
    }
    out.push_back(v);
  }
  return out;
}

struct Request {
  std::vector<int32_t> tokens;
  int32_t computed = 0;
  bricks_request_state state = BRICKS_REQ_WAITING;
};

// One decode step of `scheduler` over `kv` with state.range(0) running sequences. Limits
// are opened wide (whichever of these names the scheduler declares) so the whole batch
// prefills in one step and then decodes together.
void decode_step(benchmark::State& state, const std::string& scheduler, const std::string& kv_name) {
  const int32_t n = static_cast<int32_t>(state.range(0));
  constexpr int32_t kPrompt = 100, kSteps = 512;
  const std::string kv_lib = "libbricks_kv_" + kv_name + ".so";
  const std::string sched_lib = "libbricks_scheduler_" + scheduler + ".so";
  const bricks_brick_desc* kd = find_brick(kv_lib.c_str());
  const bricks_brick_desc* sd = find_brick(sched_lib.c_str());
  if (kd == nullptr || sd == nullptr) {
    state.SkipWithError((kv_lib + " or " + sched_lib + " is not built").c_str());
    return;
  }
  const auto* kvt = static_cast<const bricks_kv_vtable*>(kd->vtable);
  const auto* st = static_cast<const bricks_scheduler_vtable*>(sd->vtable);
  void* kv = nullptr;
  void* sched = nullptr;
  const auto kp = params(kd, {});
  const int64_t wide = int64_t{n} * (kPrompt + 1);
  const auto sp = params(sd, {{"max_num_seqs", n},
                              {"max_num_batched_tokens", wide},
                              {"token_budget", wide},
                              {"forward_size", wide}});
  if (failed(state, kvt->create(&g_api, kp.data(), static_cast<int32_t>(kp.size()), &kv))) return;
  g_kv = {BRICKS_KIND_KV, kvt, kv};
  if (failed(state, st->create(&g_api, sp.data(), static_cast<int32_t>(sp.size()), &sched))) return;
  const int32_t bs = kvt->block_size(kv);
  bricks_kv_geometry g{sizeof(g), n * ((kPrompt + kSteps) / bs + 2), 0, 0, 1, 1};
  if (failed(state, kvt->configure(kv, &g))) return;

  std::vector<Request> reqs(static_cast<size_t>(n));
  std::vector<bricks_request_view> views(static_cast<size_t>(n));
  int64_t step = 0;
  // One step: refresh views, schedule, apply the plan. Returns items scheduled, -1 on error.
  auto run_step = [&]() -> int32_t {
    for (int32_t i = 0; i < n; ++i) {
      const Request& r = reqs[static_cast<size_t>(i)];
      bricks_request_view& v = views[static_cast<size_t>(i)];
      v.id = static_cast<uint64_t>(i) + 1;
      v.arrival_s = i;
      v.state = r.state;
      v.prompt_len = kPrompt;
      v.num_tokens = static_cast<int32_t>(r.tokens.size());
      v.num_computed = r.computed;
      v.max_new_tokens = kSteps + 1;
      v.tokens = r.tokens.data();
    }
    bricks_sched_input in{sizeof(in), views.data(), n, 0.0, step++};
    bricks_step_plan plan{};
    if (failed(state, st->schedule(sched, &in, &plan))) return -1;
    for (int32_t k = 0; k < plan.num_items; ++k) {
      Request& r = reqs[plan.items[k].request_id - 1];
      r.state = BRICKS_REQ_RUNNING;
      r.computed += plan.items[k].num_cached + plan.items[k].num_tokens;
      if (r.computed == static_cast<int32_t>(r.tokens.size())) r.tokens.push_back(7);
    }
    return plan.num_items;
  };
  auto restart = [&]() -> bool {
    for (int32_t i = 0; i < n; ++i) {
      kvt->release(kv, static_cast<uint64_t>(i) + 1);
      Request& r = reqs[static_cast<size_t>(i)];
      r.tokens.clear();
      for (int32_t t = 0; t < kPrompt; ++t) r.tokens.push_back(i * 100003 + t);
      r.tokens.reserve(kPrompt + kSteps + 2);
      r.computed = 0;
      r.state = BRICKS_REQ_WAITING;
    }
    return run_step() == n;  // the whole batch prefills in one step
  };

  if (!restart()) return;
  int64_t since = 0;
  for (auto _ : state) {
    if (++since == kSteps) {
      state.PauseTiming();
      const bool ok = restart();
      state.ResumeTiming();
      if (!ok) break;
      since = 0;
    }
    if (run_step() != n) {
      state.SkipWithError("a decode step did not schedule every request");
      break;
    }
  }
  state.counters["seqs"] = n;
  st->destroy(sched);
  kvt->destroy(kv);
  g_kv = {BRICKS_KIND_KV, nullptr, nullptr};
}
void register_all() {
  const std::pair<const char*, const char*> pairs[] = {
      {"fcfs", "paged"},           {"sarathi", "paged"},       {"splitfuse", "paged"},
      {"fastswitch", "paged"},     {"fastswitch", "block_group"}, {"batchllm", "paged"},
      {"batchllm", "prefix_tree"}};
  for (const auto& [sched, kv] : pairs) {
    const std::string name = std::string("DecodeStep/") + sched + "+" + kv;
    benchmark::RegisterBenchmark(name.c_str(), [sched = std::string(sched), kv = std::string(kv)](
                                                   benchmark::State& st) { decode_step(st, sched, kv); })
        ->Arg(64)
        ->Arg(256)
        ->Arg(1024)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
