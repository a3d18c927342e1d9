// An in-process `bricks serve` on the tiny model for the serve suites: runtime, engine
// service, routes and an HTTP server on a free loopback port, torn down after each test.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "scratch_dir.h"
#include "serve/api_routes.h"
#include "serve/chat_template.h"
#include "serve/engine_service.h"
#include "serve/http_client.h"
#include "serve/http_server.h"
#include "test_models.h"

namespace bricks::testing {

// The fcfs/paged/cpu_paged wiring of the default manifest on the tiny test model.
// `model_extra` goes inside the model block (adapters).
inline std::string serve_manifest(int max_num_seqs = 32, int64_t kv_bytes = 64ll << 20,
                                  const std::string& model_extra = "") {
  return "name: \"serve-test\"\n"
         "plugin_paths: \"" BRICKS_PLUGIN_BUILD_DIR "\"\n"
         "model { path: \"" + process_model("tiny").string() + "\" " + model_extra + " }\n"
         "device { kind: \"cpu\" threads: 1 kv_cache_bytes: " + std::to_string(kv_bytes) + " }\n"
         "bricks { kind: \"scheduler\" name: \"fcfs\" params { key: \"max_num_seqs\" value { int: " +
         std::to_string(max_num_seqs) + " } } }\n"
         "bricks { kind: \"kv\" name: \"paged\" params { key: \"block_size\" value { int: 16 } }"
         " params { key: \"enable_prefix_cache\" value { bool: " +
         // Cached KV does not record which adapter computed it.
         std::string(model_extra.empty() ? "true" : "false") + " } } }\n"
         "bricks { kind: \"attention\" name: \"cpu_paged\" }\n";
}

inline std::unique_ptr<engine::Runtime> make_runtime(const std::string& manifest_text) {
  static int n = 0;
  const auto file = scratch_dir("bricks-serve-test") / ("m" + std::to_string(n++) + ".textproto");
  std::ofstream(file) << manifest_text;
  std::vector<manifest::Diagnostic> diags;
  auto m = manifest::load_manifest(file, diags);
  if (!m) throw std::runtime_error("manifest did not load: " + diags.front().format());
  return engine::Runtime::create(*m, {});
}

class ServeFixture : public ::testing::Test {
 protected:
  struct Options {
    int max_num_seqs = 32;
    int64_t max_queued = 4096;
    std::string api_key;
    size_t max_body_bytes = 1 << 20;
    std::string extra_manifest;        // appended to serve_manifest()
    std::string model_extra;           // inside its model block
    std::vector<std::string> adapters; // model.adapters names served as model ids
  };

  void start(const Options& o) {
    rt_ = make_runtime(serve_manifest(o.max_num_seqs, 64ll << 20, o.model_extra) +
                       o.extra_manifest);
    ctx_.tokenizer = rt_->tokenizer();
    ctx_.context_length = rt_->engine().model().config.context_length;
    ctx_.vocab_size = rt_->vocab_size();
    ctx_.models = {{"tiny", ""}};
    for (const std::string& a : o.adapters) ctx_.models.push_back({a, a});
    chat_.emplace(serve::ChatTemplate::from_model(rt_->model()->chat_template()));
    ctx_.chat_template = &*chat_;
    service_ = std::make_unique<serve::EngineService>(rt_->engine(),
                                                      serve::ServiceOptions{o.max_queued});
    routes_ = std::make_unique<serve::Routes>(*service_, ctx_, serve::RouteOptions{o.api_key});
    serve::HttpOptions ho;
    ho.port = 0;
    ho.max_body_bytes = o.max_body_bytes;
    server_ = std::make_unique<serve::HttpServer>(
        ho, [this](serve::Exchange& ex) { routes_->handle(ex); });
    server_->listen();
    service_->start();
    thread_ = std::thread([this] { server_->run(); });
  }
  void start() { start(Options{}); }

  void TearDown() override {
    if (!server_) return;
    server_->stop();
    service_->stop();
    thread_.join();
  }

  serve::HttpClient client() const { return serve::HttpClient("127.0.0.1", server_->port()); }
  const model::Tokenizer& tokenizer() const { return *rt_->tokenizer(); }

  std::unique_ptr<engine::Runtime> rt_;
  serve::ApiContext ctx_;
  std::optional<serve::ChatTemplate> chat_;
  std::unique_ptr<serve::EngineService> service_;
  std::unique_ptr<serve::Routes> routes_;
  std::unique_ptr<serve::HttpServer> server_;
  std::thread thread_;
};

}  // namespace bricks::testing
