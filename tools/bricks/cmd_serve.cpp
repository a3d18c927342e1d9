// `bricks serve MANIFEST`: the manifest's model, device and bricks behind an
// OpenAI-compatible HTTP API (core/serve). SIGINT/SIGTERM stop accepting, let the requests
// in flight finish for up to --drain-timeout seconds, cancel the rest and exit 0.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <thread>

#include "command.h"
#include "manifest/manifest.h"
#include "manifest_input.h"
#include "plugin_scan.h"
#include "runtime/runtime.h"
#include "serve/api_routes.h"
#include "serve/chat_template.h"
#include "serve/engine_service.h"
#include "serve/http_server.h"

namespace bricks::cli {
namespace {

struct ServeArgs {
  bool allow_group_writable_plugins = false;
  std::string manifest;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key;
  int64_t max_queued = 4096;
  double drain_timeout_s = 30;
  size_t max_body_bytes = 8 << 20;
  int max_connections = 1024;
  std::string served_model_name;
  std::string chat_template;
  int threads = -1;
  std::string model;
};

// The id clients name the base model by: the flag, else the model file's stem, else the
// builtin preset's name.
std::string base_model_id(const ServeArgs& a, const manifest::LoadedManifest& m,
                          const engine::Runtime& rt) {
  if (!a.served_model_name.empty()) return a.served_model_name;
  if (rt.model() != nullptr) return rt.model()->path().stem().string();
  return m.proto.model().builtin();
}

int serve(const ServeArgs& a) {
  // Every thread made from here on inherits the mask; one thread takes the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;

  engine::RuntimeOptions ro;
  ro.threads = a.threads;
  ro.model = a.model;
  ro.allow_group_writable_plugins = a.allow_group_writable_plugins;
  std::unique_ptr<engine::Runtime> rt;
  try {
    rt = engine::Runtime::create(*m, ro);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  if (rt->tokenizer() == nullptr || rt->model() == nullptr) {
    std::fprintf(stderr,
                 "error: %s: bricks serve needs a device that runs the model "
                 "(device.kind \"cpu\" or \"cuda\"); the %s device makes no text\n",
                 a.manifest.c_str(), m->proto.device().kind().c_str());
    return kExitFailure;
  }

  // The KV pool's pages now, where the first requests would otherwise pay for them in their
  // time to first token (on a VM, about half a second of CPU for a 113-token prompt of a 1.1B
  // model, measured with perf).
  try {
    const auto start = std::chrono::steady_clock::now();
    const size_t kv = rt->engine().fault_in_kv();
    spdlog::info("KV cache: {} MiB resident in {:.2f} s", kv >> 20,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const std::bad_alloc&) {
    const engine::KvPool& pool = rt->engine().pool();
    std::fprintf(
        stderr,
        "error: %s: the KV cache (%lld MiB of device blocks) does not fit in this "
        "machine's free memory; lower device.kv_cache_bytes\n",
        a.manifest.c_str(),
        static_cast<long long>(pool.shape().block_bytes() * pool.num_device_blocks() >> 20));
    return kExitFailure;
  }

  serve::ApiContext ctx;
  ctx.tokenizer = rt->tokenizer();
  ctx.context_length = rt->engine().model().config.context_length;
  ctx.vocab_size = rt->vocab_size();
  ctx.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  ctx.models.push_back({base_model_id(a, *m, *rt), ""});
  for (const auto& ad : m->proto.model().adapters()) ctx.models.push_back({ad.name(), ad.name()});

  std::optional<serve::ChatTemplate> chat;
  try {
    const std::string& named =
        a.chat_template.empty() ? m->proto.model().chat_template() : a.chat_template;
    if (!named.empty()) {
      chat = serve::ChatTemplate::from_name(named);
    } else if (rt->model()->chat_template().empty() && m->proto.model().path().empty() &&
               a.model.empty()) {
      // A builtin model is defined to chat in ChatML; files made before they carried the
      // template say so only by being builtin.
      chat = serve::ChatTemplate::from_name("chatml");
    } else {
      chat = serve::ChatTemplate::from_model(rt->model()->chat_template());
    }
    ctx.chat_template = &*chat;
  } catch (const std::exception& e) {
    // Completions still work; chat requests get this reason.
    ctx.chat_problem = std::string("chat completions are unavailable: ") + e.what();
    spdlog::warn("{}", ctx.chat_problem);
  }

  serve::EngineService service(rt->engine(), {a.max_queued});
  serve::Routes routes(service, ctx, {a.api_key});
  serve::HttpOptions ho;
  ho.host = a.host;
  ho.port = static_cast<uint16_t>(a.port);
  ho.max_body_bytes = a.max_body_bytes;
  ho.max_connections = a.max_connections;
  serve::HttpServer server(ho, [&routes](serve::Exchange& ex) { routes.handle(ex); });
  try {
    server.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  service.start();

  std::string ids;
  for (const auto& sm : ctx.models) ids += (ids.empty() ? "" : ", ") + sm.id;
  std::printf("bricks serve: listening on http://%s:%u (models: %s; %s; %s)\n",
              a.host.find(':') != std::string::npos ? ("[" + a.host + "]").c_str() : a.host.c_str(),
              server.port(), ids.c_str(), rt->bricks_summary().c_str(),
              rt->device_summary().c_str());
  std::fflush(stdout);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr,
                 "bricks serve: %s: no new requests; draining %lld in flight (up to "
                 "%.0f s)\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", static_cast<long long>(service.in_flight()),
                 a.drain_timeout_s);
    service.stop_admitting();
    server.stop();
    if (!service.wait_idle(a.drain_timeout_s)) {
      std::fprintf(stderr, "bricks serve: drain timeout; cancelling %lld requests\n",
                   static_cast<long long>(service.in_flight()));
    }
    service.stop("the server is shutting down");
  });
  server.run();
  stopper.join();
  std::fprintf(stderr, "bricks serve: stopped\n");
  return kExitOk;
}

const Command kServe{
    "serve", 45,
    [](CLI::App& app, int& exit_code) {
      auto a = std::make_shared<ServeArgs>();
      auto* cmd = app.add_subcommand(
          "serve",
          "Serve a manifest's model and bricks over an OpenAI-compatible HTTP API "
          "(/v1/completions, /v1/chat/completions, /v1/models, /tokenize, /detokenize, /health, "
          "/metrics)");
      cmd->add_option("manifest", a->manifest,
                      "Manifest file (.textproto or .json); its workload "
                      "section, if any, is not used")
          ->required()
          ->check(CLI::ExistingFile);
      cmd->add_option("--host", a->host, "Address to listen on (loopback unless told otherwise)")
          ->capture_default_str();
      cmd->add_option("--port", a->port, "TCP port (0: any free port, printed at start)")
          ->check(CLI::Range(0, 65535))
          ->capture_default_str();
      cmd->add_option("--api-key", a->api_key,
                      "Require 'Authorization: Bearer KEY' on /v1/*, /tokenize, /detokenize "
                      "(default: $BRICKS_API_KEY; none when both are unset)");
      cmd->add_option("--max-queued", a->max_queued,
                      "Requests waiting for their first token beyond which new ones get 429 "
                      "with Retry-After")
          ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
          ->capture_default_str();
      cmd->add_option(
             "--drain-timeout", a->drain_timeout_s,
             "Seconds a SIGINT/SIGTERM waits for requests in flight before cancelling them")
          ->check(CLI::Range(0.0, 86400.0))
          ->capture_default_str();
      cmd->add_option("--max-body-bytes", a->max_body_bytes, "Larger request bodies get 413")
          ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
          ->capture_default_str();
      cmd->add_option("--max-connections", a->max_connections,
                      "Open connections beyond which new ones get 503")
          ->check(CLI::Range(1, 1 << 20))
          ->capture_default_str();
      cmd->add_option("--served-model-name", a->served_model_name,
                      "The base model's id in the API (default: the model file's stem)");
      cmd->add_option("--chat-template", a->chat_template,
                      "Chat template family instead of the model's own (and the manifest's "
                      "model.chat_template): chatml, llama-2, llama-3, mistral, zephyr, gemma");
      cmd->add_option("--threads", a->threads, "Worker threads (overrides device.threads)");
      cmd->add_option("--model", a->model, "Model file (overrides model.path)");
      add_plugin_trust_flag(cmd, a->allow_group_writable_plugins);
      cmd->callback([a, &exit_code] {
        if (a->api_key.empty()) {
          if (const char* k = std::getenv("BRICKS_API_KEY"); k != nullptr) a->api_key = k;
        }
        exit_code = serve(*a);
      });
    },
    Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
