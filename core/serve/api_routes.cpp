#include "serve/api_routes.h"

#include <openssl/crypto.h>

#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <random>

#include "host/sha256.h"
#include "serve/openai_response.h"

namespace bricks::serve {

using nlohmann::json;

namespace {

constexpr const char* kJson = "application/json";

void respond_json(Exchange& ex, int status, const json& j, std::string_view extra = {}) {
  ex.respond(status, kJson, dump_json(j), extra);
}

void respond_error(Exchange& ex, const ApiError& e, std::string_view extra = {}) {
  respond_json(ex, e.status, e.body(), extra);
}

// Response ids: unique within a server run, not guessable across runs.
std::string new_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}() * 0x9E3779B97F4A7C15ull;
  return fmt::format("{}{:016x}", prefix, salt ^ (++counter * 0xBF58476D1CE4E5B9ull));
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

}  // namespace

Routes::Routes(EngineService& service, ApiContext context, RouteOptions options)
    : service_(service), ctx_(std::move(context)), options_(std::move(options)) {
  if (!options_.api_key.empty()) key_digest_ = host::sha256_hex(options_.api_key);
}

bool Routes::authorized(const Exchange& ex) const {
  if (key_digest_.empty()) return true;
  std::string_view h = ex.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.substr(0, kBearer.size()) != kBearer) return false;
  // Digests have one length whatever the key, so the comparison's time says nothing of it.
  const std::string given = host::sha256_hex(h.substr(kBearer.size()));
  return CRYPTO_memcmp(given.data(), key_digest_.data(), key_digest_.size()) == 0;
}

void Routes::handle(Exchange& ex) {
  const std::string path = path_of(ex.target());
  struct Route {
    const char* path;
    const char* method;
    bool needs_key;
    void (Routes::*fn)(Exchange&);
  };
  static const Route kRoutes[] = {
      {"/v1/completions", "POST", true, nullptr},
      {"/v1/chat/completions", "POST", true, nullptr},
      {"/v1/models", "GET", true, &Routes::models},
      {"/tokenize", "POST", true, &Routes::tokenize},
      {"/detokenize", "POST", true, &Routes::detokenize},
      {"/health", "GET", false, &Routes::health},
      {"/metrics", "GET", false, nullptr},
  };
  for (const Route& r : kRoutes) {
    if (path != r.path) continue;
    if (ex.method() != r.method) {
      return respond_error(ex, ApiError(405, fmt::format("{} takes {} only", r.path, r.method)),
                           fmt::format("Allow: {}\r\n", r.method));
    }
    if (r.needs_key && !authorized(ex)) {
      return respond_error(ex, ApiError(401, "a valid API key is required: send "
                                             "'Authorization: Bearer <key>'",
                                        {}, "authentication_error", "invalid_api_key"),
                           "WWW-Authenticate: Bearer\r\n");
    }
    try {
      if (path == "/v1/completions") return completion(ex, false);
      if (path == "/v1/chat/completions") return completion(ex, true);
      if (path == "/metrics") {
        return ex.respond(200, "text/plain; version=0.0.4; charset=utf-8",
                          service_.metrics().render());
      }
      return (this->*r.fn)(ex);
    } catch (const ApiError& e) {
      return respond_error(ex, e);
    } catch (const std::exception& e) {
      return respond_error(ex, ApiError(500, e.what(), {}, "server_error"));
    }
  }
  respond_error(ex, ApiError(404, fmt::format("no such endpoint: {}", path), {},
                             "invalid_request_error", "not_found"));
}

void Routes::completion(Exchange& ex, bool chat) {
  const json body = parse_json_body(ex.body());
  const ParsedRequest req =
      chat ? parse_chat_request(body, ctx_) : parse_completion_request(body, ctx_);
  auto stream = std::make_shared<RequestStream>();
  const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch()).count();
  ResponseBuilder rb(req, *ctx_.tokenizer, new_id(chat ? "chatcmpl-" : "cmpl-"), created);

  switch (service_.submit(req.spec, stream)) {
    case Admission::kAccepted: break;
    case Admission::kQueueFull:
      service_.metrics().request_rejected("rejected");
      return respond_error(ex, ApiError(429, "the server's queue is full; retry later", {},
                                        "rate_limit_error", "queue_full"),
                           "Retry-After: 1\r\n");
    case Admission::kStopping:
      return respond_error(ex, ApiError(503, "the server is shutting down", {}, "server_error"));
  }

  std::vector<TokenEvent> tokens;
  std::optional<DoneEvent> done;
  if (req.stream) {
    if (!ex.begin_events() || !ex.send(rb.stream_start())) return service_.cancel(stream);
    for (;;) {
      if (!ex.wait(*stream)) return service_.cancel(stream);
      tokens.clear();
      stream->take(tokens, done);
      std::string frames;
      for (const TokenEvent& t : tokens) frames += rb.stream_token(t);
      if (done) frames += rb.stream_done(*done);
      if (!ex.send(frames)) return service_.cancel(stream);
      if (done) return ex.end_events();
    }
  }
  for (;;) {
    if (!ex.wait(*stream)) return service_.cancel(stream);  // nobody is left to answer
    stream->take(tokens, done);
    if (!done) continue;
    if (done->finish == engine::FinishReason::kFailed) {
      // A request the engine could not serve: the client's (400) when it never started,
      // the server's (500) when it broke off, 503 when the server is stopping.
      const int status = done->cancelled ? 503 : tokens.empty() ? 400 : 500;
      return respond_error(ex, ApiError(status, done->failure, {},
                                        status == 400 ? "invalid_request_error" : "server_error"));
    }
    return respond_json(ex, 200, rb.full(tokens, *done));
  }
}

void Routes::models(Exchange& ex) {
  json data = json::array();
  for (const ServedModel& m : ctx_.models) {
    json e = {{"id", m.id}, {"object", "model"}, {"created", ctx_.created},
              {"owned_by", "bricks"}, {"max_model_len", ctx_.context_length}};
    e["parent"] = m.adapter.empty() ? json(nullptr) : json(ctx_.models.front().id);
    data.push_back(e);
  }
  respond_json(ex, 200, {{"object", "list"}, {"data", data}});
}

void Routes::tokenize(Exchange& ex) {
  const json body = parse_json_body(ex.body());
  reject_unknown_fields(body, [](const std::string& name) {
    return name == "prompt" || name == "add_special_tokens" || name == "model";
  });
  if (!body.contains("prompt") || !body["prompt"].is_string()) {
    throw ApiError(400, "'prompt' (a string) is required", "prompt");
  }
  bool add_special = true;
  if (body.contains("add_special_tokens")) {
    if (!body["add_special_tokens"].is_boolean()) {
      throw ApiError(400, "'add_special_tokens' must be a boolean", "add_special_tokens");
    }
    add_special = body["add_special_tokens"].get<bool>();
  }
  const std::vector<int32_t> ids =
      ctx_.tokenizer->encode(body["prompt"].get<std::string>(), add_special);
  respond_json(ex, 200, {{"tokens", ids}, {"count", ids.size()},
                         {"max_model_len", ctx_.context_length}});
}

void Routes::detokenize(Exchange& ex) {
  const json body = parse_json_body(ex.body());
  reject_unknown_fields(
      body, [](const std::string& name) { return name == "tokens" || name == "model"; });
  if (!body.contains("tokens") || !body["tokens"].is_array()) {
    throw ApiError(400, "'tokens' (an array of token ids) is required", "tokens");
  }
  std::vector<int32_t> ids;
  for (const json& t : body["tokens"]) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= ctx_.vocab_size) {
      throw ApiError(400, fmt::format("'tokens' holds {}, not a token id in [0, {})", t.dump(),
                                      ctx_.vocab_size),
                     "tokens");
    }
    ids.push_back(t.get<int32_t>());
  }
  respond_json(ex, 200, {{"prompt", ctx_.tokenizer->decode(ids)}});
}

void Routes::health(Exchange& ex) {
  // 503 while draining, so that a load balancer sends nothing new.
  if (service_.stopping()) {
    return respond_json(ex, 503, {{"status", "draining"}});
  }
  respond_json(ex, 200, {{"status", "ok"}});
}

}  // namespace bricks::serve
