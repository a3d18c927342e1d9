// Scheduler step benchmark: every shipped scheduler wired to every shipped kv brick (block
// 16), N running requests that all decode, one schedule() call per iteration (views
// refreshed, plan applied as the engine would). The Queued cases put Q more requests in the
// queue beside them, later arrivals that max_num_seqs and the pool keep waiting, so every
// step looks at a deep queue it cannot admit. Every 512 steps the running requests restart
// from a 100-token prompt so the pool never runs out; that reset is not timed. The time per
// iteration is the time per step. Prints numbers; asserts nothing.
//
//   bench_scheduler --benchmark_filter=fastswitch
//   bench_scheduler --benchmark_filter='running:1024/queued:0$|Queued'   (the targets below,
//                                                                       every pair)
//   BRICKS_BENCH_PLUGIN_DIR=/other/build/plugins bench_scheduler   (bricks from another build,
//                                                                    to compare two versions)
//
// Targets: under 20 us per step at 1,024 running sequences, and under 50 us with 10,000
// requests queued beside 256 running ones.
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

// Every declared param at its default, except those named in `ints` and `strings`.
std::vector<bricks_param_value> params(
    const bricks_brick_desc* d, const std::vector<std::pair<std::string, int64_t>>& ints,
    const std::vector<std::pair<std::string, const char*>>& strings = {}) {
  std::vector<bricks_param_value> out;
  for (int32_t i = 0; i < d->num_params; ++i) {
    bricks_param_value v{d->params[i].name, d->params[i].type, d->params[i].default_value};
    for (const auto& [name, value] : ints) {
      if (name == v.name) v.value.i = value;
    }
    for (const auto& [name, value] : strings) {
      if (name == v.name) v.value.s = value;
    }
    out.push_back(v);
  }
  return out;
}

// The harness's own record of a request, small and kept apart from the views and the token
// arrays, so that the per-step refresh and plan application cost little beside the
// scheduler. A request's token array is sized once for the whole run and filled past the
// prompt with the token every decode appends, so a decode only counts it.
struct Request {
  int32_t num_tokens = 0;
  int32_t computed = 0;
  bricks_request_state state = BRICKS_REQ_WAITING;
};
constexpr int32_t kDecodeToken = 7;

// One decode step of `scheduler` over `kv` with state.range(0) running sequences and
// state.range(1) queued ones. Limits are opened wide (whichever of these names the
// scheduler declares) so the whole running batch prefills in one step and then decodes
// together; max_num_seqs and the pool hold exactly the running batch, so the queue waits.
// scheduler/disagg runs in its decode role, the one whose steps decode.
void decode_step(benchmark::State& state, const std::string& scheduler, const std::string& kv_name) {
  const int32_t n = static_cast<int32_t>(state.range(0));
  const int32_t queued = static_cast<int32_t>(state.range(1));
  const int32_t total = n + queued;
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
  const auto sp = params(sd,
                         {{"max_num_seqs", n},
                          {"max_num_batched_tokens", wide},
                          {"token_budget", wide},
                          {"forward_size", wide},
                          {"prefill_token_budget", wide},
                          {"decode_token_budget", wide}},
                         {{"role", "decode"}});
  if (failed(state, kvt->create(&g_api, kp.data(), static_cast<int32_t>(kp.size()), &kv))) return;
  g_kv = {BRICKS_KIND_KV, kvt, kv};
  if (failed(state, st->create(&g_api, sp.data(), static_cast<int32_t>(sp.size()), &sched))) return;
  const int32_t bs = kvt->block_size(kv);
  bricks_kv_geometry g{sizeof(g), n * ((kPrompt + kSteps) / bs + 2), 0, 0, 1, 1};
  if (failed(state, kvt->configure(kv, &g))) return;

  std::vector<Request> reqs(static_cast<size_t>(total));
  std::vector<std::vector<int32_t>> tokens(static_cast<size_t>(total));
  std::vector<bricks_request_view> views(static_cast<size_t>(total));
  // Request i's prompt, then for a running one the decode token up to the most tokens a
  // run reaches.
  auto fill_tokens = [&](int32_t i) {
    std::vector<int32_t>& t = tokens[static_cast<size_t>(i)];
    t.assign(static_cast<size_t>(i < n ? kPrompt + kSteps + 2 : kPrompt), kDecodeToken);
    for (int32_t k = 0; k < kPrompt; ++k) t[static_cast<size_t>(k)] = i * 100003 + k;
    reqs[static_cast<size_t>(i)].num_tokens = kPrompt;
  };
  for (int32_t i = 0; i < total; ++i) fill_tokens(i);
  int64_t step = 0;
  // Fills what changes from step to step in the view of request i (as the engine would).
  auto refresh = [&](int32_t i) {
    const Request& r = reqs[static_cast<size_t>(i)];
    bricks_request_view& v = views[static_cast<size_t>(i)];
    v.state = r.state;
    v.num_tokens = r.num_tokens;
    v.num_computed = r.computed;
  };
  // What never changes is filled once (the token arrays never move), and the queued
  // requests' views whole: the time measured is the scheduler's, not the refresh's.
  for (int32_t i = 0; i < total; ++i) {
    bricks_request_view& v = views[static_cast<size_t>(i)];
    v.id = static_cast<uint64_t>(i) + 1;
    v.arrival_s = i;
    v.prompt_len = kPrompt;
    v.max_new_tokens = kSteps + 1;
    v.tokens = tokens[static_cast<size_t>(i)].data();
    refresh(i);
  }
  // One step: refresh the running views, schedule, apply the plan. Returns items scheduled,
  // -1 on error.
  auto run_step = [&]() -> int32_t {
    for (int32_t i = 0; i < n; ++i) refresh(i);
    bricks_sched_input in{sizeof(in), views.data(), total, 0.0, step++};
    bricks_step_plan plan{};
    if (failed(state, st->schedule(sched, &in, &plan))) return -1;
    Request* const running = reqs.data();
    const bricks_sched_item* const items = plan.items;
    for (int32_t k = 0; k < plan.num_items; ++k) {
      const bricks_sched_item& it = items[k];
      if (it.request_id > static_cast<uint64_t>(n)) return -1;  // a queued one ran
      Request& r = running[it.request_id - 1];
      r.state = BRICKS_REQ_RUNNING;
      r.computed += it.num_cached + it.num_tokens;
      if (r.computed == r.num_tokens) ++r.num_tokens;  // tokens[num_tokens] is kDecodeToken
    }
    return plan.num_items;
  };
  auto restart = [&]() -> bool {
    for (int32_t i = 0; i < n; ++i) {
      kvt->release(kv, static_cast<uint64_t>(i) + 1);
      Request& r = reqs[static_cast<size_t>(i)];
      r.num_tokens = kPrompt;
      r.computed = 0;
      r.state = BRICKS_REQ_WAITING;
    }
    return run_step() == n;  // the whole running batch prefills in one step
  };

  if (!restart()) {
    state.SkipWithError("the first step did not prefill exactly the running batch");
    return;
  }
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
  state.counters["queued"] = queued;
  st->destroy(sched);
  kvt->destroy(kv);
  g_kv = {BRICKS_KIND_KV, nullptr, nullptr};
}
// Every shipped scheduler with every shipped kv brick: the schedulers name no capability
// that any of these kv bricks lacks.
void register_all() {
  const char* const schedulers[] = {"fcfs",       "sarathi",  "splitfuse",
                                    "fastswitch", "batchllm", "disagg"};
  const char* const kvs[] = {"paged", "prefix_tree", "block_group"};
  for (const char* sched : schedulers) {
    for (const char* kv : kvs) {
      const auto run = [sched = std::string(sched), kv = std::string(kv)](benchmark::State& st) {
        decode_step(st, sched, kv);
      };
      const std::string pair = std::string(sched) + "+" + kv;
      benchmark::RegisterBenchmark(("DecodeStep/" + pair).c_str(), run)
          ->ArgNames({"running", "queued"})
          ->Args({64, 0})
          ->Args({256, 0})
          ->Args({1024, 0})
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("Queued/" + pair).c_str(), run)
          ->ArgNames({"running", "queued"})
          ->Args({256, 10000})
          ->Unit(benchmark::kMicrosecond);
    }
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
