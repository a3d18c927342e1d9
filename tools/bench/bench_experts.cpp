// Neuron partitions of dense FFNs: fidelity against the dense model and speed at several
// shares of active clusters, on builtin random-weight models; and the MoE FFN per batch
// size. Prints tables; asserts nothing.
//
//   bench_experts [--models tiny,small] [--shares 1,0.75,0.5,0.25] [--clusters 32]
//                 [--threads 2] [--model-dir models]
//
// Fidelity is teacher-forced: every prefix of a few English sentences is one request
// whose next-token logits are compared with the dense model's (top-1 agreement, mean
// KL(dense || partitioned)). Speed: one FFN layer at 1 and 16 tokens (median of repeats),
// and end-to-end greedy decode of one request.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/moe_ffn.h"
#include "engine/neuron_calibrate.h"
#include "engine/neuron_ffn.h"
#include "host/registry.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"

namespace {

using namespace bricks;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kEvalText = {
    "The farmer walked along the road with his horse and told it about the weather.",
    "A young girl found a shiny stone on the beach and kept it in her pocket for years.",
    "The rocket lifted off slowly, and the whole town came out to watch it disappear.",
    "Anna baked a cake for her friend, but the dog ate half of it before the party.",
    "In the winter the lake froze, and the children skated on it every afternoon.",
    "The wise owl listened to the animals argue and then told them a simple story.",
};

struct Args {
  std::vector<std::string> models = {"tiny", "small"};
  std::vector<double> shares = {1.0, 0.75, 0.5, 0.25};
  int32_t clusters = 32;
  int32_t threads = 2;
  std::string model_dir = "models";
};

template <class T>
std::vector<T> split(const std::string& s) {
  std::vector<T> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) {
    std::stringstream v(part);
    T x{};
    v >> x;
    out.push_back(x);
  }
  return out;
}

manifest::LoadedManifest make_manifest(const std::filesystem::path& model, double share,
                                       int32_t threads) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<bench_experts>";
  m.proto.set_name("bench_experts");
  m.proto.mutable_model()->set_path(model.string());
  m.proto.mutable_device()->set_kind("cpu");
  m.proto.mutable_device()->set_threads(threads);
  m.proto.mutable_device()->set_kv_cache_bytes(64 << 20);
  m.proto.mutable_device()->set_kv_dtype("f32");
  const std::pair<const char*, const char*> bricks[] = {
      {"scheduler", "fcfs"}, {"kv", "paged"}, {"attention", "cpu_paged"}};
  for (const auto& [kind, name] : bricks) {
    auto* b = m.proto.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
  }
  if (share > 0) {
    auto* b = m.proto.add_bricks();
    b->set_kind("router");
    b->set_name("neuron_partition");
    (*b->mutable_params())["active_share"].set_float_(share);
  }
  return m;
}

// Next-token logits of every prefix (2 tokens and longer) of the evaluation sentences.
std::vector<std::vector<float>> prefix_logits(engine::Runtime& rt) {
  std::map<uint64_t, size_t> slot;
  std::vector<std::vector<float>> out;
  engine::Engine& eng = rt.engine();
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    out[slot.at(r.id)].assign(lg.begin(), lg.end());
  });
  for (const std::string& text : kEvalText) {
    const std::vector<int32_t> ids = rt.tokenizer()->encode(text, true);
    for (size_t n = 2; n <= ids.size(); ++n) {
      engine::RequestSpec spec;
      spec.prompt.assign(ids.begin(), ids.begin() + static_cast<long>(n));
      spec.max_new_tokens = 1;
      spec.ignore_eos = true;
      slot[eng.submit(spec)] = out.size();
      out.emplace_back();
    }
  }
  eng.run_to_completion();
  return out;
}

void log_softmax(const std::vector<float>& x, std::vector<double>& y) {
  const double mx = *std::max_element(x.begin(), x.end());
  double s = 0;
  for (float v : x) s += std::exp(v - mx);
  const double l = mx + std::log(s);
  y.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] - l;
}

void fidelity(const std::vector<std::vector<float>>& dense,
              const std::vector<std::vector<float>>& part, double& top1, double& kl) {
  int64_t agree = 0;
  double kl_sum = 0;
  std::vector<double> p, q;
  for (size_t i = 0; i < dense.size(); ++i) {
    const auto& a = dense[i];
    const auto& b = part[i];
    agree += std::max_element(a.begin(), a.end()) - a.begin() ==
             std::max_element(b.begin(), b.end()) - b.begin();
    log_softmax(a, p);
    log_softmax(b, q);
    double k = 0;
    for (size_t v = 0; v < p.size(); ++v) k += std::exp(p[v]) * (p[v] - q[v]);
    kl_sum += k;
  }
  top1 = static_cast<double>(agree) / static_cast<double>(dense.size());
  kl = kl_sum / static_cast<double>(dense.size());
}

// Decode tokens per second of one greedy request (16-token prompt, 64 new tokens).
double decode_tps(engine::Runtime& rt) {
  engine::RequestSpec spec;
  spec.prompt = rt.tokenizer()->encode(kEvalText[0], true);
  spec.prompt.resize(std::min<size_t>(spec.prompt.size(), 16));
  spec.max_new_tokens = 64;
  spec.ignore_eos = true;
  rt.engine().set_logits_callback({});
  rt.engine().submit(spec);
  const auto t0 = Clock::now();
  rt.engine().run_to_completion();
  return 64.0 / std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class F>
double median_us(F&& f, int reps) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Microseconds of layer 0's FFN for `rows` tokens: dense, then through `ffn` when given.
double ffn_us(const engine::LlamaWeights& w, engine::LayerFfn* ffn, int64_t rows) {
  const int64_t d = w.config.hidden, f = w.config.ffn;
  std::vector<float> h(static_cast<size_t>(rows * d)), out(h.size());
  std::vector<float> g(static_cast<size_t>(rows * f)), u(g.size());
  std::mt19937 rng(1);
  std::normal_distribution<float> n;
  for (float& x : h) x = n(rng);
  const engine::LayerWeights& L = w.layers[0];
  auto dense = [&] {
    L.w_gate->forward(h.data(), rows, g.data());
    L.w_up->forward(h.data(), rows, u.data());
    bricks::cpu::silu_mul(g.data(), u.data(), rows * f, g.data());
    L.w_down->forward(g.data(), rows, out.data());
  };
  auto routed = [&] { ffn->forward(0, h.data(), rows, out.data()); };
  const int reps = rows == 1 ? 400 : 100;
  return ffn != nullptr ? median_us(routed, reps) : median_us(dense, reps);
}

void bench_model(const Args& a, const std::string& preset) {
  const auto path = engine::ensure_builtin_model(preset, "f32", a.model_dir);
  auto dense = engine::Runtime::create(make_manifest(path, 0, a.threads), {});
  // Calibrate (always, so the statistics below are this run's) and save the partition.
  engine::CalibrationOptions co;
  co.clusters = a.clusters;
  const engine::CalibrationResult cal =
      engine::calibrate_partition(dense->engine(), dense->weights(), dense->tokenizer(), co, {});
  engine::NeuronPartition part = cal.partition;
  part.model_checksum = engine::model_checksum(*dense->model());
  engine::save_partition(part, engine::partition_path_for(path));
  dense = engine::Runtime::create(make_manifest(path, 0, a.threads), {});

  std::printf("\n== %s (%s), %d clusters of %d neurons per layer, calibration %d tokens/layer\n",
              preset.c_str(), path.filename().c_str(), a.clusters,
              dense->weights().config.ffn / a.clusters, cal.tokens);
  std::printf("neurons holding 90%% of |silu(gate)*up| per token: %.1f %% (near-inactive "
              "rest: %.1f %%; real pretrained models: 70-80 %% near-inactive)\n",
              100 * cal.mass90_share, 100 * (1 - cal.mass90_share));
  std::printf("active share inside an active cluster: %.3f (random grouping: %.3f)\n",
              cal.cluster_purity, co.active_share);

  const auto want = prefix_logits(*dense);
  const double dense_tps = decode_tps(*dense);
  const double dense_ffn1 = ffn_us(dense->weights(), nullptr, 1);
  const double dense_ffn16 = ffn_us(dense->weights(), nullptr, 16);
  std::printf("%-8s %8s %10s %11s %11s %11s %9s %12s\n", "active", "top-1", "KL", "ffn@1 us",
              "ffn@16 us", "ffn@1 x", "decode", "decode x");
  std::printf("%-8s %8s %10s %11.1f %11.1f %11s %7.1f/s %12s\n", "dense", "1.000", "0",
              dense_ffn1, dense_ffn16, "1.00", dense_tps, "1.00");
  for (double share : a.shares) {
    auto rt = engine::Runtime::create(make_manifest(path, share, a.threads), {});
    double top1 = 0, kl = 0;
    fidelity(want, prefix_logits(*rt), top1, kl);
    const double tps = decode_tps(*rt);
    host::ParamMap params;
    params["active_share"] = host::float_value(share);
    host::LoadOptions lo;
    lo.search_path = {BRICKS_PLUGIN_BUILD_DIR};
    host::Registry reg(lo);
    auto router = reg.create(BRICKS_KIND_ROUTER, "neuron_partition", params);
    engine::NeuronFfn ffn(*rt->model(), rt->weights(), part, {0}, *router);
    const double f1 = ffn_us(rt->weights(), &ffn, 1);
    const double f16 = ffn_us(rt->weights(), &ffn, 16);
    char label[16];
    std::snprintf(label, sizeof label, "%.0f %%", 100 * share);
    std::printf("%-8s %8.3f %10.4f %11.1f %11.1f %11.2f %7.1f/s %12.2f\n", label, top1, kl, f1,
                f16, dense_ffn1 / f1, tps, tps / dense_tps);
  }
}

void bench_moe(const Args& a) {
  const auto path = engine::ensure_builtin_model("moe-tiny", "f32", a.model_dir);
  auto model = model::Model::open(path);
  const auto w = engine::LlamaWeights::load(*model, cpu::Compute::F32);
  host::LoadOptions lo;
  lo.search_path = {BRICKS_PLUGIN_BUILD_DIR};
  host::Registry reg(lo);
  auto router = reg.create(BRICKS_KIND_ROUTER, "topk", {});
  engine::MoeFfn moe(w, *router);
  std::printf("\n== moe-tiny: MoE FFN of one layer (%d experts, %d per token)\n",
              w.config.n_experts, w.config.n_experts_used);
  std::printf("%8s %12s %14s\n", "tokens", "us", "us per token");
  for (int64_t rows : {1, 4, 16, 64, 256}) {
    std::vector<float> h(static_cast<size_t>(rows * w.config.hidden)), out(h.size());
    std::mt19937 rng(3);
    std::normal_distribution<float> n;
    for (float& x : h) x = n(rng);
    const double us = median_us([&] { moe.forward(0, h.data(), rows, out.data()); }, 50);
    std::printf("%8lld %12.1f %14.2f\n", static_cast<long long>(rows), us, us / rows);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--models") a.models = split<std::string>(v);
    else if (k == "--shares") a.shares = split<double>(v);
    else if (k == "--clusters") a.clusters = std::stoi(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--model-dir") a.model_dir = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    bricks::cpu::set_num_threads(a.threads);
    for (const std::string& m : a.models) bench_model(a, m);
    bench_moe(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
