// `bricks generate`: streams the model's continuation of one prompt to stdout.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "command.h"
#include "manifest/manifest.h"
#include "plugin_scan.h"
#include "runtime/runtime.h"
#include "workload/workload.h"

namespace bricks::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string builtin = "tiny";
  std::string prompt;
  int max_tokens = 64;
  double temperature = 0.0;
  int top_k = 0;
  double top_p = 1.0;
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  int threads = 0;
  std::string device = "cpu";
  int cuda_device = 0;
  std::string attention;  // empty: cpu_paged on cpu, cuda_paged on cuda
  std::string compute;    // empty: f32 on cpu, bf16 on cuda
  bool no_bos = false;
  bool stats = false;
  bool json = false;
  int logprobs = 0;
  bool allow_group_writable_plugins = false;
};

// The whole run as one JSON object: prompt and generated ids, text, finish reason and each
// generated token's log-probability (with the `top` most likely alternatives).
void print_json(const engine::Request& r, const model::Tokenizer& tok) {
  nlohmann::json lps = nlohmann::json::array();
  for (size_t i = 0; i < r.logprobs.size(); ++i) {
    const engine::GeneratedLogprobs& g = r.logprobs[i];
    nlohmann::json top = nlohmann::json::array();
    for (const engine::TokenLogprob& t : g.top) {
      top.push_back({{"id", t.token}, {"piece", tok.piece(t.token)}, {"logprob", t.logprob}});
    }
    const int32_t id = r.tokens[static_cast<size_t>(r.prompt_len()) + i];
    lps.push_back({{"id", id}, {"piece", tok.piece(id)}, {"logprob", g.logprob}, {"top", top}});
  }
  nlohmann::json j = {
      {"prompt_ids", r.spec.prompt},
      {"ids", std::vector<int32_t>(r.tokens.begin() + r.prompt_len(), r.tokens.end())},
      {"text", r.text},
      {"finish_reason", engine::finish_reason_name(r.finish)},
      {"logprobs", lps}};
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int generate(const GenerateArgs& a) {
  manifest::LoadedManifest m;
  m.file = std::filesystem::current_path() / "<generate>";
  auto& p = m.proto;
  p.set_name("generate");
  if (!a.model.empty()) {
    p.mutable_model()->set_path(std::filesystem::absolute(a.model).string());
  } else {
    p.mutable_model()->set_builtin(a.builtin);
  }
  const bool cuda = a.device == "cuda";
  p.mutable_device()->set_kind(a.device);
  if (cuda) {
    p.mutable_device()->set_cuda_device(a.cuda_device);
    p.mutable_device()->set_kv_dtype("f16");
  } else {
    p.mutable_device()->set_threads(a.threads);
  }
  p.mutable_device()->set_compute(!a.compute.empty() ? a.compute : cuda ? "bf16" : "f32");
  const std::string attention = !a.attention.empty() ? a.attention
                                : cuda               ? "cuda_paged"
                                                     : "cpu_paged";
  for (const auto& [kind, name] : {std::pair<std::string, std::string>{"scheduler", "fcfs"},
                                   {"kv", "paged"},
                                   {"attention", attention}}) {
    auto* b = p.add_bricks();
    b->set_kind(kind);
    b->set_name(name);
  }
  std::unique_ptr<engine::Runtime> rt;
  try {
    engine::RuntimeOptions ro;
    ro.allow_group_writable_plugins = a.allow_group_writable_plugins;
    rt = engine::Runtime::create(m, ro);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  engine::RequestSpec spec;
  spec.prompt = rt->tokenizer()->encode(a.prompt, !a.no_bos);
  spec.max_new_tokens = a.max_tokens;
  spec.sampling.temperature = static_cast<float>(a.temperature);
  spec.sampling.top_k = a.top_k;
  spec.sampling.top_p = static_cast<float>(a.top_p);
  spec.sampling.min_p = static_cast<float>(a.min_p);
  spec.sampling.repetition_penalty = static_cast<float>(a.repetition_penalty);
  spec.sampling.seed = a.seed;
  spec.stop = a.stop;
  if (a.json) spec.logprobs = a.logprobs;
  engine::Engine& eng = rt->engine();
  if (!a.json) {
    std::printf("%s", a.prompt.c_str());
    std::fflush(stdout);
    eng.set_token_callback([](const engine::Request&, int32_t, std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    });
  }
  eng.submit(std::move(spec));
  eng.run_to_completion();
  const engine::Request& r = *eng.ended().front();
  if (a.json) {
    if (r.finish != engine::FinishReason::kFailed) print_json(r, *rt->tokenizer());
  } else {
    std::printf("\n");
  }
  if (r.finish == engine::FinishReason::kFailed) {
    std::fprintf(stderr, "error: %s\n", r.failure.c_str());
    return kExitFailure;
  }
  if (a.stats && !r.token_times_s.empty()) {
    const double ttft = r.token_times_s.front() - r.spec.arrival_s;
    const double decode = r.token_times_s.back() - r.token_times_s.front();
    std::fprintf(stderr,
                 "%d prompt tokens in %.3f s (%.1f tok/s); %d tokens in %.3f s "
                 "(%.2f tok/s decode); finish: %s\n",
                 r.prompt_len(), ttft, r.prompt_len() / ttft, r.num_generated, decode,
                 r.num_generated > 1 ? (r.num_generated - 1) / decode : 0.0,
                 engine::finish_reason_name(r.finish));
    const engine::EngineStats& st = eng.stats();
    std::fprintf(stderr,
                 "%lld steps; outside the forward pass (scheduling, KV tables, "
                 "attention plan, sampling): %.2f%% of step time\n",
                 static_cast<long long>(st.steps),
                 st.busy_s > 0 ? 100.0 * (st.busy_s - st.forward_s) / st.busy_s : 0.0);
  }
  return kExitOk;
}

void add_generate_flags(CLI::App* cmd, GenerateArgs* a) {
  cmd->add_option("--model", a->model, "Model file (.gguf) or safetensors directory")
      ->check(CLI::ExistingPath);
  cmd->add_option("--builtin", a->builtin,
                  "Generated model preset when --model is not given (made under ./models)")
      ->capture_default_str();
  cmd->add_option("-p,--prompt", a->prompt, "The prompt text")->required();
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Most tokens to generate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "0 = greedy")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Keep the k most likely tokens (0 = off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-p", a->min_p, "Drop tokens below min_p x the top probability")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repetition-penalty", a->repetition_penalty,
                  "Penalty for tokens already seen (1 = off)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--stop", a->stop, "Stop when this text appears (repeatable)");
  cmd->add_option("--threads", a->threads, "Worker threads (0 = all cores)");
  cmd->add_option("--device", a->device,
                  "cpu, or cuda (an NVIDIA GPU; needs a build with the CUDA Toolkit)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--cuda-device", a->cuda_device, "With --device cuda: the GPU's ordinal")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--attention", a->attention,
                  "Attention brick (default: cpu_paged on cpu, cuda_paged on cuda)");
  cmd->add_option("--compute", a->compute,
                  "Linear-layer precision: f32 or bf16 on cpu (default f32), bf16 or f16 on "
                  "cuda (default bf16)")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}));
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the BOS token");
  cmd->add_flag("--stats", a->stats, "Print prompt and decode speed on stderr");
  add_plugin_trust_flag(cmd, a->allow_group_writable_plugins);
  cmd->add_flag("--json", a->json,
                "Print one JSON object instead of the text: prompt ids, generated ids, text, "
                "finish reason and each token's log-probability");
  cmd->add_option("--logprobs", a->logprobs,
                  "With --json: also the N most likely tokens at each step")
      ->check(CLI::Range(0, 20))
      ->capture_default_str();
}

const Command kGenerate{
    "generate",         50,       "Stream the model's continuation of one prompt",
    add_generate_flags, generate, Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
