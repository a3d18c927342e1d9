// Step time of batched decode with per-request LoRA adapters: 8 requests decoding
// together with 0, 1 or 4 distinct adapters in the batch (and, as the baseline, without an
// adapter brick at all). Prints one line per case; asserts nothing.
//
//   bench_lora_step [--preset tiny|small] [--rank 16] [--targets all|attn] [--steps 48]
//                   [--rounds 3]
// Every round runs each case once, in turn; a case's number is its best round (the
// median decode step of that round), which filters out other load on the machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lora_fixture.h"

namespace bt = bricks::testing;
namespace fs = std::filesystem;

namespace {

struct Args {
  std::string preset = "tiny";
  int32_t rank = 16;
  std::string targets = "all";
  int32_t steps = 48;
  int32_t threads = 0;
  int32_t rounds = 3;
};

fs::path preset_model(const std::string& preset) {
  const fs::path file = bt::fixture_dir() / (preset + "-bench-f16.gguf");
  if (!fs::exists(file)) {
    bricks::model::MakeModelOptions o;
    o.preset = preset;
    o.dtype = bricks::model::DType::F16;
    o.out = file;
    bricks::model::make_model(o);
  }
  return file;
}

// Median and mean of the decode steps' wall time, in milliseconds.
std::pair<double, double> decode_step_ms(bricks::engine::Runtime& rt, int32_t batch,
                                         const std::vector<std::string>& adapters, int32_t steps) {
  bricks::engine::Engine& eng = rt.engine();
  for (int32_t i = 0; i < batch; ++i) {
    bricks::engine::RequestSpec spec;
    for (int32_t t = 0; t < 16; ++t) spec.prompt.push_back(100 + 7 * i + t);
    spec.max_new_tokens = steps + 2;
    spec.ignore_eos = true;
    spec.adapter = adapters.empty() ? "" : adapters[static_cast<size_t>(i) % adapters.size()];
    eng.submit(spec);
  }
  std::vector<double> ms;
  eng.step();  // the prefill of all requests
  while (static_cast<int32_t>(ms.size()) < steps) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!eng.step()) break;
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  eng.run_to_completion();
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double x : ms) mean += x;
  return {sorted[sorted.size() / 2], mean / static_cast<double>(ms.size())};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--preset")
      a.preset = v;
    else if (k == "--rank")
      a.rank = std::stoi(v);
    else if (k == "--targets")
      a.targets = v;
    else if (k == "--steps")
      a.steps = std::stoi(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--rounds")
      a.rounds = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const fs::path model = preset_model(a.preset);
  auto manifest = bt::base_manifest(model);
  manifest.proto.mutable_device()->set_threads(a.threads);
  manifest.proto.mutable_device()->set_kv_cache_bytes(256 << 20);
  (*manifest.proto.mutable_bricks(1)->mutable_params())["enable_prefix_cache"].set_bool_(false);
  auto no_brick = bricks::engine::Runtime::create(manifest, {});

  bt::add_brick(manifest, "adapter", "lora");
  for (int k = 0; k < 4; ++k) {
    bricks::model::MakeAdapterOptions o;
    o.base = bricks::model::preset_config(a.preset);
    o.rank = a.rank;
    o.alpha = static_cast<float>(a.rank);
    if (a.targets == "all") {
      o.targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    } else {
      o.targets = {"attn_q", "attn_k", "attn_v", "attn_output"};
    }
    o.seed = static_cast<uint64_t>(k + 1);
    o.out = bt::fixture_dir() / (a.preset + "-bench-lora-" + std::to_string(k) + ".gguf");
    bricks::model::make_adapter(o);
    auto* ad = manifest.proto.mutable_model()->add_adapters();
    ad->set_name("a" + std::to_string(k));
    ad->set_path(o.out.string());
  }
  auto with_brick = bricks::engine::Runtime::create(manifest, {});

  std::printf("model %s (f16 weights), batch 8 decoding, rank %d, targets %s, %d steps, %s\n",
              a.preset.c_str(), a.rank, a.targets.c_str(), a.steps,
              with_brick->device_summary().c_str());
  std::printf("%-34s %12s %12s %10s\n", "case", "best ms", "mean ms", "overhead");
  struct Case {
    const char* label;
    bricks::engine::Runtime* rt;
    std::vector<std::string> adapters;
    double best = 1e300, mean_sum = 0;
  };
  std::vector<Case> cases = {
      {"no adapter brick", no_brick.get(), {}},
      {"adapter brick, 0 adapters in batch", with_brick.get(), {}},
      {"1 adapter (all 8 rows)", with_brick.get(), {"a0"}},
      {"4 distinct adapters (2 rows each)", with_brick.get(), {"a0", "a1", "a2", "a3"}},
  };
  for (int32_t round = 0; round < a.rounds; ++round) {
    for (Case& c : cases) {
      const auto r = decode_step_ms(*c.rt, 8, c.adapters, a.steps);
      c.best = std::min(c.best, r.first);
      c.mean_sum += r.second;
    }
  }
  for (const Case& c : cases) {
    const double over = 100.0 * (c.best / cases[0].best - 1.0);
    std::printf("%-34s %12.3f %12.3f %9.1f%%\n", c.label, c.best, c.mean_sum / a.rounds, over);
  }
  return 0;
}
