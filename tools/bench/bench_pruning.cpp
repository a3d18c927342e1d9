// Token pruning: fidelity and speed of pruning/fastv and pruning/atp against no pruning,
// on the real cpu engine. Each request is `text_before` text tokens, a grid x grid image of
// generated patch embeddings (scaled like the model's token embeddings) and `text_after`
// text tokens; it runs alone, greedy, for `gen` tokens. Per configuration it prints:
//
//   kept     share of image tokens in the KV groups after the first pruning point
//   top1     first generated token equal to the unpruned run's (share of requests)
//   kl       mean KL(unpruned || pruned) of the first token's distribution, in nats
//   greedy   share of the `gen` free-running greedy tokens equal to the unpruned run's
//   prefill  mean wall time of the prefill step, ms
//   cpu      mean CPU time this process spent in it (all threads), ms: steadier than the
//            wall time on a machine other programs load
//   kv/req   KV bytes the request holds after its prefill, KiB
//
// Prints numbers; asserts nothing. Build Release.
//
//   bench_pruning [--model small|tiny] [--requests 16] [--grid 24] [--gen 16] [--threads 2]
//                 [--model-dir models]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/image_input.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"

namespace {

namespace engine = bricks::engine;
namespace manifest = bricks::manifest;

struct Options {
  std::string model = "small";
  int32_t requests = 16;
  int32_t grid = 24;
  int32_t gen = 16;
  int32_t threads = 2;
  int32_t text_before = 8;
  int32_t text_after = 24;
  std::string model_dir = "models";
};

struct Config {
  std::string label;
  std::string pruner;  // "" = none
  double keep = 1.0;
  std::vector<int32_t> layers;
};

struct Result {
  std::vector<int32_t> first_token;
  std::vector<std::vector<float>> first_probs;
  std::vector<std::vector<int32_t>> generated;
  double prefill_ms = 0;
  double cpu_ms = 0;
  double kv_kib = 0;
  double kept = 0;
};

manifest::Value num(double v) {
  manifest::Value x;
  x.set_float_(v);
  return x;
}

manifest::LoadedManifest make_manifest(const Options& o, const Config& c,
                                       const std::string& model_path) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<bench_pruning>";
  auto& p = m.proto;
  p.set_name("bench_pruning " + c.label);
  p.add_plugin_paths(BRICKS_PLUGIN_BUILD_DIR);
  p.mutable_model()->set_path(model_path);
  p.mutable_device()->set_kind("cpu");
  p.mutable_device()->set_threads(o.threads);
  p.mutable_device()->set_kv_cache_bytes(512ll << 20);
  p.mutable_device()->set_kv_dtype("f32");
  auto add = [&](const std::string& kind, const std::string& name) {
    auto* b = p.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
    return b;
  };
  add("scheduler", "fcfs");
  manifest::Value off;
  off.set_bool_(false);
  (*add("kv", "paged")->mutable_params())["enable_prefix_cache"] = off;
  add("attention", "cpu_paged");
  if (!c.pruner.empty()) {
    auto* b = add("pruning", c.pruner);
    (*b->mutable_params())[c.pruner == "fastv" ? "keep_ratio" : "target_keep"] = num(c.keep);
    for (int32_t l : c.layers) b->add_layers(l);
  }
  return m;
}

std::vector<engine::RequestSpec> make_requests(const Options& o, int32_t hidden, int32_t vocab,
                                               float rms) {
  std::vector<engine::RequestSpec> out;
  for (int32_t i = 0; i < o.requests; ++i) {
    engine::RequestSpec s;
    s.prompt.push_back(1);
    for (int32_t t = 1; t < o.text_before + o.text_after; ++t) {
      s.prompt.push_back(static_cast<int32_t>(300 + (i * 7919 + t * 104729) % (vocab - 300)));
    }
    engine::ImageInput im;
    im.grid_w = im.grid_h = o.grid;
    im.embeddings = std::make_shared<const std::vector<float>>(
        engine::generate_image_embeddings(o.grid, o.grid, hidden, rms, 1000 + i));
    engine::place_image(s, o.text_before, std::move(im), hidden);
    s.max_new_tokens = o.gen;
    s.ignore_eos = true;
    out.push_back(std::move(s));
  }
  return out;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> p(logits.begin(), logits.end());
  const float mx = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (float& v : p) sum += (v = std::exp(v - mx));
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

Result run_config(const Options& o, const Config& c, const std::string& model_path) {
  auto rt = engine::Runtime::create(make_manifest(o, c, model_path), {});
  engine::Engine& eng = rt->engine();
  const int32_t hidden = eng.model().config.hidden;
  const auto specs = make_requests(o, hidden, eng.model().config.vocab_size,
                                   engine::token_embedding_rms(rt->weights()));
  Result res;
  std::vector<float> first;
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    if (r.num_generated == 0) first = softmax(lg);
  });
  const double block_bytes = static_cast<double>(eng.pool().shape().block_bytes());
  for (const auto& s : specs) {
    const uint64_t id = eng.submit(s);
    const double f0 = eng.stats().forward_s;
    const int32_t free0 = eng.kv_stats().free_device_blocks;
    const double c0 = cpu_seconds();
    eng.step();  // the whole prompt: fcfs does not chunk
    res.cpu_ms += (cpu_seconds() - c0) * 1e3;
    res.prefill_ms += (eng.stats().forward_s - f0) * 1e3;
    res.kv_kib += (free0 - eng.kv_stats().free_device_blocks) * block_bytes / 1024.0;
    eng.run_to_completion();
    const engine::Request* r = nullptr;
    for (const engine::Request* e : eng.ended()) {
      if (e->id == id) r = e;
    }
    if (r == nullptr || r->finish == engine::FinishReason::kFailed) {
      std::fprintf(stderr, "%s: request failed: %s\n", c.label.c_str(),
                   r != nullptr ? r->failure.c_str() : "not ended");
      std::exit(1);
    }
    const int32_t image = o.grid * o.grid;
    const int32_t text = r->prompt_len() - image;
    const int32_t later =
        r->group_tokens.size() > 1 ? r->group_tokens[1] - (o.gen - 1) : r->prompt_len();
    res.kept += static_cast<double>(later - text) / image;
    res.first_probs.push_back(first);
    res.first_token.push_back(r->tokens[static_cast<size_t>(r->prompt_len())]);
    res.generated.emplace_back(r->tokens.begin() + r->prompt_len(), r->tokens.end());
  }
  const double n = static_cast<double>(specs.size());
  res.prefill_ms /= n;
  res.cpu_ms /= n;
  res.kv_kib /= n;
  res.kept /= n;
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--model")
      o.model = v;
    else if (a == "--requests")
      o.requests = std::atoi(v);
    else if (a == "--grid")
      o.grid = std::atoi(v);
    else if (a == "--gen")
      o.gen = std::atoi(v);
    else if (a == "--threads")
      o.threads = std::atoi(v);
    else if (a == "--model-dir")
      o.model_dir = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.requests < 1 || o.grid < 1 || o.gen < 2) {
    std::fprintf(stderr,
                 "--requests and --grid must be >= 1, --gen >= 2 (KV is read while "
                 "the request still holds it)\n");
    return 2;
  }
  try {
    const std::string model_path =
        engine::ensure_builtin_model(o.model, "f32", o.model_dir).string();
    std::vector<Config> configs = {{"none", "", 1.0, {}}};
    for (double k : {0.75, 0.5, 0.25}) {
      configs.push_back(
          {"fastv " + std::to_string(static_cast<int>(k * 100)) + "%", "fastv", k, {2}});
    }
    for (double k : {0.75, 0.5, 0.25}) {
      configs.push_back({"atp " + std::to_string(static_cast<int>(k * 100)) + "%", "atp", k, {2}});
    }
    std::printf(
        "model %s, %d requests: %d text + %dx%d image + %d text tokens, %d generated, "
        "%d threads; pruning after layer 2\n",
        o.model.c_str(), o.requests, o.text_before, o.grid, o.grid, o.text_after, o.gen, o.threads);
    std::printf("%-10s %6s %6s %8s %7s %10s %10s %8s\n", "config", "kept", "top1", "kl",
                "greedy", "prefill", "cpu", "kv/req");
    Result base;
    for (size_t ci = 0; ci < configs.size(); ++ci) {
      const Result r = run_config(o, configs[ci], model_path);
      if (ci == 0) base = r;
      double top1 = 0, kl = 0, greedy = 0;
      for (size_t i = 0; i < r.first_token.size(); ++i) {
        top1 += r.first_token[i] == base.first_token[i] ? 1 : 0;
        const auto& p = base.first_probs[i];
        const auto& q = r.first_probs[i];
        for (size_t t = 0; t < p.size(); ++t) {
          if (p[t] > 0) kl += p[t] * (std::log(p[t]) - std::log(std::max(q[t], 1e-30f)));
        }
        for (size_t t = 0; t < r.generated[i].size(); ++t) {
          greedy += r.generated[i][t] == base.generated[i][t] ? 1 : 0;
        }
      }
      const double n = static_cast<double>(r.first_token.size());
      std::printf("%-10s %5.0f%% %5.0f%% %8.4f %6.0f%% %8.1fms %8.1fms %6.0fKiB\n",
                  configs[ci].label.c_str(), r.kept * 100, top1 / n * 100, kl / n,
                  greedy / (n * o.gen) * 100, r.prefill_ms, r.cpu_ms, r.kv_kib);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pruning: %s\n", e.what());
    return 1;
  }
  return 0;
}
