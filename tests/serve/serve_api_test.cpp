// The OpenAI API of `bricks serve` through a real HTTP client: shapes, streaming framing,
// equality of streamed and whole text, logprobs against the engine's, every error path.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bricks/model/make_adapter.h"
#include "serve_fixture.h"

namespace bricks::testing {
namespace {

using nlohmann::json;

class ServeApi : public ServeFixture {
 protected:
  void SetUp() override { start(); }

  json post(const std::string& path, const json& body, int expect_status = 200) {
    auto c = client();
    const serve::HttpResponse r = c.request("POST", path, body.dump());
    EXPECT_EQ(r.status, expect_status) << r.body;
    return json::parse(r.body);
  }

  // Every `data:` payload of a streamed request, in order; the raw body too.
  std::vector<std::string> stream(const std::string& path, const json& body) {
    auto c = client();
    std::vector<std::string> events;
    const serve::HttpResponse r = c.stream(path, body.dump(), [&](std::string_view d) {
      events.emplace_back(d);
      return true;
    });
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("content-type"), "text/event-stream");
    return events;
  }
};

TEST_F(ServeApi, HealthAndModels) {
  auto c = client();
  EXPECT_EQ(c.request("GET", "/health").status, 200);
  const json models = json::parse(c.request("GET", "/v1/models").body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 1u);
  EXPECT_EQ(models["data"][0]["id"], "tiny");
  EXPECT_EQ(models["data"][0]["object"], "model");
}

TEST_F(ServeApi, GreedyCompletionMatchesTheEngine) {
  const json r = post("/v1/completions", {{"model", "tiny"}, {"prompt", "Once upon a time"},
                                          {"max_tokens", 12}, {"temperature", 0},
                                          {"ignore_eos", true}});
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["usage"]["completion_tokens"], 12);
  const auto prompt = tokenizer().encode("Once upon a time", true);
  EXPECT_EQ(r["usage"]["prompt_tokens"], prompt.size());

  // The same request on a separate engine of the same manifest.
  auto rt = make_runtime(serve_manifest());
  engine::RequestSpec spec;
  spec.prompt = prompt;
  spec.max_new_tokens = 12;
  spec.ignore_eos = true;
  rt->engine().submit(spec);
  rt->engine().run_to_completion();
  EXPECT_EQ(r["choices"][0]["text"], rt->engine().ended().front()->text);
}

TEST_F(ServeApi, StreamFramingAndTextEqualTheWholeResponse) {
  const json body = {{"model", "tiny"}, {"prompt", "The sea"}, {"max_tokens", 16},
                     {"temperature", 0}, {"ignore_eos", true}};
  const json whole = post("/v1/completions", body);
  json sbody = body;
  sbody["stream"] = true;
  sbody["stream_options"] = {{"include_usage", true}};

  auto c = client();
  std::string raw;
  std::vector<std::string> events;
  c.stream("/v1/completions", sbody.dump(), [&](std::string_view d) {
    events.emplace_back(d);
    return true;
  });
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json e = json::parse(events[i]);
    EXPECT_EQ(e["object"], "text_completion");
    if (e["choices"].empty()) {
      usage = e["usage"];
      continue;
    }
    text += e["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
  EXPECT_EQ(usage["completion_tokens"], 16);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);
}

TEST_F(ServeApi, SseFramesAreExact) {
  // Raw bytes: every event is "data: <json>\n\n" and the last is "data: [DONE]\n\n".
  auto c = client();
  std::string all;
  std::vector<std::string> events;
  c.stream("/v1/completions",
           json{{"model", "tiny"}, {"prompt", "a"}, {"max_tokens", 3}, {"stream", true},
                {"ignore_eos", true}, {"temperature", 0}}.dump(),
           [&](std::string_view d) {
             events.emplace_back(d);
             return true;
           });
  std::string rebuilt;
  for (const auto& e : events) rebuilt += "data: " + e + "\n\n";
  std::string leftover = rebuilt;
  std::vector<std::string> again;
  serve::take_sse_events(leftover, [&](std::string_view d) { again.emplace_back(d); });
  EXPECT_EQ(again, events);
  EXPECT_TRUE(leftover.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_FALSE(json::parse(events[i], nullptr, false).is_discarded()) << events[i];
  }
}

TEST_F(ServeApi, StopStringsNeverLeakIntoTheStream) {
  // Find what greedy decoding says, then stop on a piece of it that spans tokens.
  const json probe = post("/v1/completions", {{"model", "tiny"}, {"prompt", "Hello"},
                                              {"max_tokens", 24}, {"temperature", 0},
                                              {"ignore_eos", true}});
  const std::string full = probe["choices"][0]["text"];
  ASSERT_GE(full.size(), 12u);
  const std::string stop = full.substr(5, 4);
  const json body = {{"model", "tiny"}, {"prompt", "Hello"}, {"max_tokens", 24},
                     {"temperature", 0}, {"ignore_eos", true}, {"stop", stop}};
  const json whole = post("/v1/completions", body);
  EXPECT_EQ(whole["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(whole["choices"][0]["text"], full.substr(0, full.find(stop)));
  json sbody = body;
  sbody["stream"] = true;
  std::string text;
  for (const auto& e : stream("/v1/completions", sbody)) {
    if (e == "[DONE]") break;
    text += json::parse(e)["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
}

TEST_F(ServeApi, LogprobsEqualTheEngines) {
  const json r = post("/v1/completions", {{"model", "tiny"}, {"prompt", "Numbers:"},
                                          {"max_tokens", 5}, {"temperature", 0},
                                          {"ignore_eos", true}, {"logprobs", 3}});
  const json& lp = r["choices"][0]["logprobs"];
  ASSERT_EQ(lp["token_logprobs"].size(), 5u);
  ASSERT_EQ(lp["top_logprobs"].size(), 5u);

  auto rt = make_runtime(serve_manifest());
  engine::RequestSpec spec;
  spec.prompt = tokenizer().encode("Numbers:", true);
  spec.max_new_tokens = 5;
  spec.ignore_eos = true;
  spec.logprobs = 3;
  rt->engine().submit(spec);
  rt->engine().run_to_completion();
  const engine::Request& req = *rt->engine().ended().front();
  ASSERT_EQ(req.logprobs.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_FLOAT_EQ(lp["token_logprobs"][i].get<float>(), req.logprobs[i].logprob);
    EXPECT_EQ(lp["top_logprobs"][i].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_FLOAT_EQ(req.logprobs[i].top[0].logprob, req.logprobs[i].logprob);
  }
}

TEST_F(ServeApi, ChatCompletionWholeAndStreamed) {
  const json body = {{"model", "tiny"},
                     {"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "user"}, {"content", "Hi there"}}}},
                     {"max_tokens", 8}, {"temperature", 0}, {"ignore_eos", true}};
  const json whole = post("/v1/chat/completions", body);
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["role"], "assistant");
  const std::string rendered = chat_->render(
      std::vector<serve::ChatMessage>{{"system", "Be brief."}, {"user", "Hi there"}}, true);
  EXPECT_EQ(whole["usage"]["prompt_tokens"],
            tokenizer().encode(rendered, !chat_->renders_bos()).size());
  json sbody = body;
  sbody["stream"] = true;
  std::string text;
  const auto events = stream("/v1/chat/completions", sbody);
  EXPECT_EQ(json::parse(events.front())["choices"][0]["delta"]["role"], "assistant");
  for (const auto& e : events) {
    if (e == "[DONE]") break;
    const json j = json::parse(e);
    EXPECT_EQ(j["object"], "chat.completion.chunk");
    text += j["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"]);
}

TEST_F(ServeApi, TokenizeAndDetokenize) {
  const json t = post("/tokenize", {{"prompt", "hello world"}});
  EXPECT_EQ(t["tokens"].get<std::vector<int32_t>>(), tokenizer().encode("hello world", true));
  const json d = post("/detokenize", {{"tokens", t["tokens"]}});
  EXPECT_EQ(d["prompt"], "hello world");
  post("/detokenize", {{"tokens", {999999}}}, 400);
}

TEST_F(ServeApi, TokenIdPromptsAndEcho) {
  const auto ids = tokenizer().encode("echo me", true);
  const json r = post("/v1/completions", {{"model", "tiny"}, {"prompt", ids}, {"max_tokens", 2},
                                          {"echo", true}, {"temperature", 0}});
  EXPECT_EQ(r["choices"][0]["text"].get<std::string>().rfind("echo me", 0), 0u);
}

TEST_F(ServeApi, BadParametersAre400NamingTheParameter) {
  struct Case {
    json body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {{{"model", "tiny"}, {"prompt", "x"}, {"temperature", 3}}, "temperature"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"top_p", 0}}, "top_p"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"n", 2}}, "n"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 0}}, "max_tokens"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 100000}}, "max_tokens"},
      {{{"model", "tiny"}, {"prompt", std::vector<int>(600, 5)}}, "prompt"},
      {{{"model", "tiny"}, {"prompt", {5, -1}}}, "prompt"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"stream_options", {{"include_usage", true}}}},
       "stream_options"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"frobnicate", 1}}, "frobnicate"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"stop", {1, 2}}}, "stop"},
      {{{"model", "tiny"}, {"prompt", "x"}, {"logprobs", 2}, {"echo", true}}, "echo"},
      {{{"prompt", "x"}}, "model"},
  };
  for (const Case& c : cases) {
    const json r = post("/v1/completions", c.body, 400);
    EXPECT_EQ(r["error"]["param"], c.param) << c.body.dump();
    EXPECT_EQ(r["error"]["type"], "invalid_request_error");
    EXPECT_FALSE(r["error"]["message"].get<std::string>().empty());
  }
  const json chat = post("/v1/chat/completions",
                         {{"model", "tiny"}, {"messages", {{{"role", "robot"}, {"content", "x"}}}}},
                         400);
  EXPECT_EQ(chat["error"]["param"], "messages");
}

TEST_F(ServeApi, MalformedJsonUnknownModelAndPaths) {
  auto c = client();
  serve::HttpResponse r = c.request("POST", "/v1/completions", "{\"model\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("malformed JSON"),
            std::string::npos);
  r = c.request("POST", "/v1/completions", R"({"model": "gpt-9", "prompt": "x"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "model_not_found");
  EXPECT_EQ(c.request("GET", "/v2/nothing").status, 404);
  r = c.request("GET", "/v1/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("allow"), "POST");
}

TEST_F(ServeApi, MetricsCountWhatWasServed) {
  post("/v1/completions", {{"model", "tiny"}, {"prompt", "count me"}, {"max_tokens", 4},
                           {"ignore_eos", true}});
  auto c = client();
  const serve::HttpResponse r = c.request("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("bricks_requests_total{outcome=\"length\"} 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("bricks_generation_tokens_total 4\n"), std::string::npos);
  EXPECT_NE(r.body.find("bricks_time_to_first_token_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE bricks_e2e_request_latency_seconds histogram"),
            std::string::npos);
  // The engine thread frees the request's blocks after its last token went out, so the
  // gauge may be read before or after that: a share either way.
  const size_t at = r.body.find("\nbricks_kv_cache_usage_ratio ");
  ASSERT_NE(at, std::string::npos) << r.body;
  const double usage = std::stod(r.body.substr(at + 29));
  EXPECT_GE(usage, 0.0);
  EXPECT_LE(usage, 1.0);
}

// A LoRA adapter of the manifest is a model id of its own; naming it runs the request
// with the adapter, as the engine does for a request that names it.
class ServeAdapters : public ServeFixture {
 protected:
  void SetUp() override {
    model::MakeAdapterOptions a;
    a.base = model::preset_config("tiny");
    a.rank = 4;
    a.alpha = 64.f;  // large enough to change greedy tokens
    a.targets = {"attn_q", "attn_v", "ffn_down"};
    a.stddev = 0.2f;
    a.seed = 3;
    a.out = scratch_dir("bricks-serve-test") / "lora-a.gguf";
    if (!std::filesystem::exists(a.out)) model::make_adapter(a);
    Options o;
    o.extra_manifest = "bricks { kind: \"adapter\" name: \"lora\" }\n";
    o.model_extra = "adapters { name: \"lora-a\" path: \"" + a.out.string() + "\" }";
    o.adapters = {"lora-a"};
    start(o);
  }
};

TEST_F(ServeAdapters, AdaptersAreModelsAndRunWhenNamed) {
  auto c = client();
  const json models = json::parse(c.request("GET", "/v1/models").body);
  ASSERT_EQ(models["data"].size(), 2u);
  EXPECT_EQ(models["data"][1]["id"], "lora-a");
  EXPECT_EQ(models["data"][1]["parent"], "tiny");

  auto complete = [&](const std::string& model) {
    const serve::HttpResponse r = c.request(
        "POST", "/v1/completions",
        json{{"model", model}, {"prompt", "Adapters"}, {"max_tokens", 8}, {"temperature", 0},
             {"ignore_eos", true}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["choices"][0]["text"].get<std::string>();
  };
  const std::string base = complete("tiny");
  const std::string adapted = complete("lora-a");

  // The engine of the same manifest, the request naming the adapter.
  auto rt = make_runtime(
      serve_manifest(32, 64ll << 20,
                     "adapters { name: \"lora-a\" path: \"" +
                         (scratch_dir("bricks-serve-test") / "lora-a.gguf").string() + "\" }") +
      "bricks { kind: \"adapter\" name: \"lora\" }\n");
  engine::RequestSpec spec;
  spec.prompt = tokenizer().encode("Adapters", true);
  spec.max_new_tokens = 8;
  spec.ignore_eos = true;
  spec.adapter = "lora-a";
  rt->engine().submit(spec);
  rt->engine().run_to_completion();
  EXPECT_EQ(adapted, rt->engine().ended().front()->text);
  EXPECT_NE(adapted, base);
}

}  // namespace
}  // namespace bricks::testing
