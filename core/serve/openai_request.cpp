#include "serve/openai_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "serve/chat_template.h"

namespace bricks::serve {

using nlohmann::json;

ApiError::ApiError(int status_, std::string message, std::string param_, std::string type_,
                   std::string code_)
    : std::runtime_error(std::move(message)),
      status(status_),
      type(std::move(type_)),
      param(std::move(param_)),
      code(std::move(code_)) {}

json ApiError::body() const {
  json e = {{"message", what()}, {"type", type}};
  e["param"] = param.empty() ? json(nullptr) : json(param);
  e["code"] = code.empty() ? json(nullptr) : json(code);
  return json{{"error", e}};
}

void reject_unknown_fields(const json& body, const std::function<bool(const std::string&)>& known) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!known(it.key())) {
      throw ApiError(400, fmt::format("unrecognized request argument supplied: '{}'", it.key()),
                     it.key());
    }
  }
}

json parse_json_body(const std::string& body) {
  try {
    json j = json::parse(body);
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset where parsing stopped.
    throw ApiError(400, fmt::format("malformed JSON at byte {} of the body: {}", e.byte,
                                    e.what()));
  } catch (const json::out_of_range& e) {
    // A number beyond a double's range (1e400) is valid JSON that nlohmann cannot hold.
    throw ApiError(400, fmt::format("a number in the body is out of range: {}", e.what()));
  }
}

namespace {

// Reads typed fields of one request object, each problem naming the field.
class Fields {
 public:
  explicit Fields(const json& body) : body_(body) {}

  bool has(const char* name) const {
    auto it = body_.find(name);
    return it != body_.end() && !it->is_null();
  }
  const json& at(const char* name) const { return body_.at(name); }

  bool boolean(const char* name, bool def) {
    seen_.insert(name);
    if (!has(name)) return def;
    if (!at(name).is_boolean()) throw ApiError(400, fmt::format("'{}' must be a boolean", name), name);
    return at(name).get<bool>();
  }

  double number(const char* name, double def, double lo, double hi, bool lo_open = false) {
    seen_.insert(name);
    if (!has(name)) return def;
    const json& v = at(name);
    if (!v.is_number()) throw ApiError(400, fmt::format("'{}' must be a number", name), name);
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) {
      throw ApiError(400, fmt::format("'{}' is {}; it must be in {}{}, {}]", name, v.dump(),
                                      lo_open ? "(" : "[", lo, hi),
                     name);
    }
    return x;
  }

  int64_t integer(const char* name, int64_t def, int64_t lo, int64_t hi) {
    seen_.insert(name);
    if (!has(name)) return def;
    const json& v = at(name);
    if (!v.is_number_integer()) {
      throw ApiError(400, fmt::format("'{}' must be an integer", name), name);
    }
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
      throw ApiError(400, fmt::format("'{}' is {}; it must be in [{}, {}]", name, v.dump(), lo, hi),
                     name);
    }
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) {
      throw ApiError(400, fmt::format("'{}' is {}; it must be in [{}, {}]", name, x, lo, hi), name);
    }
    return x;
  }

  void mark(const char* name) { seen_.insert(name); }

  // Every field read or marked; anything else is refused, as OpenAI's API does.
  void reject_unknown() const {
    reject_unknown_fields(body_, [&](const std::string& name) { return seen_.count(name) > 0; });
  }

 private:
  const json& body_;
  std::set<std::string, std::less<>> seen_;
};

void check_model(ParsedRequest& out, Fields& f, const ApiContext& ctx) {
  f.mark("model");
  if (!f.has("model") || !f.at("model").is_string()) {
    throw ApiError(400, "'model' is required: a model id from GET /v1/models", "model");
  }
  out.model = f.at("model").get<std::string>();
  for (const ServedModel& m : ctx.models) {
    if (m.id == out.model) {
      out.spec.adapter = m.adapter;
      return;
    }
  }
  std::string ids;
  for (const ServedModel& m : ctx.models) ids += (ids.empty() ? "" : ", ") + m.id;
  throw ApiError(404, fmt::format("the model '{}' does not exist; this server has: {}",
                                  out.model, ids),
                 "model", "invalid_request_error", "model_not_found");
}

// Sampling, stopping and streaming fields both endpoints share.
void read_common(ParsedRequest& out, Fields& f) {
  engine::RequestSpec& s = out.spec;
  s.sampling.temperature = static_cast<float>(f.number("temperature", 1.0, 0.0, 2.0));
  s.sampling.top_p = static_cast<float>(f.number("top_p", 1.0, 0.0, 1.0, /*lo_open=*/true));
  const int64_t top_k = f.integer("top_k", 0, -1, 1 << 30);
  s.sampling.top_k = static_cast<int32_t>(std::max<int64_t>(top_k, 0));  // -1 and 0: off
  s.sampling.min_p = static_cast<float>(f.number("min_p", 0.0, 0.0, 1.0));
  s.sampling.repetition_penalty =
      static_cast<float>(f.number("repetition_penalty", 1.0, 0.0, 100.0, /*lo_open=*/true));
  if (f.has("seed")) {
    s.sampling.seed = static_cast<uint64_t>(f.integer("seed", 0, INT64_MIN, INT64_MAX));
  }
  f.mark("seed");
  s.ignore_eos = f.boolean("ignore_eos", false);
  for (const char* zero_only : {"presence_penalty", "frequency_penalty"}) {
    if (f.number(zero_only, 0.0, -2.0, 2.0) != 0.0) {
      throw ApiError(400, fmt::format("'{}' is not supported (only 0); use "
                                      "'repetition_penalty'", zero_only),
                     zero_only);
    }
  }
  if (f.integer("n", 1, 1, 128) != 1) {
    throw ApiError(400, "'n' must be 1: this server returns one choice per request; send n "
                        "requests (with different seeds) for n samples", "n");
  }
  f.mark("user");
  f.mark("logit_bias");
  if (f.has("logit_bias") && !(f.at("logit_bias").is_object() && f.at("logit_bias").empty())) {
    throw ApiError(400, "'logit_bias' is not supported", "logit_bias");
  }
  f.mark("stop");
  if (f.has("stop")) {
    const json& v = f.at("stop");
    std::vector<std::string> stops;
    if (v.is_string()) {
      stops.push_back(v.get<std::string>());
    } else if (v.is_array() && v.size() <= 16) {
      for (const json& e : v) {
        if (!e.is_string()) throw ApiError(400, "'stop' must hold strings", "stop");
        stops.push_back(e.get<std::string>());
      }
    } else {
      throw ApiError(400, "'stop' must be a string or an array of at most 16 strings", "stop");
    }
    for (const std::string& x : stops) {
      if (x.empty()) throw ApiError(400, "'stop' strings must not be empty", "stop");
    }
    s.stop = std::move(stops);
  }
  out.stream = f.boolean("stream", false);
  f.mark("stream_options");
  if (f.has("stream_options")) {
    const json& so = f.at("stream_options");
    if (!out.stream) {
      throw ApiError(400, "'stream_options' is only allowed with 'stream': true", "stream_options");
    }
    if (!so.is_object()) throw ApiError(400, "'stream_options' must be an object", "stream_options");
    for (auto it = so.begin(); it != so.end(); ++it) {
      if (it.key() != "include_usage" || !it->is_boolean()) {
        throw ApiError(400, "'stream_options' takes one field: 'include_usage' (boolean)",
                       "stream_options");
      }
      out.include_usage = it->get<bool>();
    }
  }
}

// Prompt ids against the context and vocabulary; then max_tokens, whose default fills the
// context (clamped to `default_max` when that is > 0).
void fit_context(ParsedRequest& out, Fields& f, const ApiContext& ctx, const char* prompt_param,
                 const char* max_param, int64_t default_max) {
  engine::RequestSpec& s = out.spec;
  const auto n = static_cast<int64_t>(s.prompt.size());
  if (n == 0) throw ApiError(400, "the prompt is empty", prompt_param);
  if (n >= ctx.context_length) {
    throw ApiError(400, fmt::format("the prompt has {} tokens; this model's context is {} "
                                    "tokens, and at least one must be left to generate",
                                    n, ctx.context_length),
                   prompt_param, "invalid_request_error", "context_length_exceeded");
  }
  const int64_t room = ctx.context_length - n;
  if (f.has(max_param)) {
    const int64_t m = f.integer(max_param, 0, 1, INT32_MAX);
    if (m > room) {
      throw ApiError(400, fmt::format("the prompt's {} tokens plus {} = {} exceed this model's "
                                      "context of {} tokens; ask for at most {}",
                                      n, max_param, m, ctx.context_length, room),
                     max_param, "invalid_request_error", "context_length_exceeded");
    }
    s.max_new_tokens = static_cast<int32_t>(m);
  } else {
    f.mark(max_param);
    s.max_new_tokens = static_cast<int32_t>(default_max > 0 ? std::min(default_max, room) : room);
  }
}

// Stop strings that are one control token (such as a chat template's end of turn, which
// decodes to no text) stop on the token itself.
void split_stop_tokens(engine::RequestSpec& s, const model::Tokenizer& tok) {
  std::vector<std::string> text_stops;
  for (const std::string& x : s.stop) {
    const std::vector<int32_t> ids = tok.encode(x, false);
    if (ids.size() == 1 && tok.piece(ids[0]).empty()) {
      s.stop_tokens.push_back(ids[0]);
    } else {
      text_stops.push_back(x);
    }
  }
  s.stop = std::move(text_stops);
}

std::vector<int32_t> token_ids(const json& v, const ApiContext& ctx) {
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (const json& e : v) {
    if (!e.is_number_integer()) throw ApiError(400, "a token-id prompt holds integers only", "prompt");
    const int64_t id = e.get<int64_t>();
    if (id < 0 || id >= ctx.vocab_size) {
      throw ApiError(400, fmt::format("token id {} is outside the vocabulary [0, {})", id,
                                      ctx.vocab_size),
                     "prompt");
    }
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

}  // namespace

ParsedRequest parse_completion_request(const json& body, const ApiContext& ctx) {
  ParsedRequest out;
  Fields f(body);
  check_model(out, f, ctx);
  read_common(out, f);
  out.echo = f.boolean("echo", false);
  if (f.has("logprobs")) {
    out.logprobs = true;
    out.top_logprobs = static_cast<int32_t>(f.integer("logprobs", 0, 0, 20));
  }
  f.mark("logprobs");
  if (out.echo && out.logprobs) {
    throw ApiError(400, "'echo' with 'logprobs' would need the prompt's log-probabilities, "
                        "which this server does not compute; drop one of them", "echo");
  }
  f.mark("suffix");
  if (f.has("suffix")) throw ApiError(400, "'suffix' is not supported", "suffix");

  f.mark("prompt");
  if (!f.has("prompt")) throw ApiError(400, "'prompt' is required", "prompt");
  const json* p = &f.at("prompt");
  // One prompt per request: a one-element batch is unwrapped, a longer one refused.
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) p = &(*p)[0];
  if (p->is_array() && !p->empty() && ((*p)[0].is_string() || (*p)[0].is_array())) {
    throw ApiError(400, "one prompt per request: send a batch of prompts as separate requests",
                   "prompt");
  }
  if (p->is_string()) {
    out.prompt_text = p->get<std::string>();
    out.spec.prompt = ctx.tokenizer->encode(out.prompt_text, true);
  } else if (p->is_array()) {
    out.spec.prompt = token_ids(*p, ctx);
    if (out.echo) out.prompt_text = ctx.tokenizer->decode(out.spec.prompt);
  } else {
    throw ApiError(400, "'prompt' must be a string or an array of token ids", "prompt");
  }
  fit_context(out, f, ctx, "prompt", "max_tokens", 16);
  f.reject_unknown();
  split_stop_tokens(out.spec, *ctx.tokenizer);
  out.spec.logprobs = out.logprobs ? out.top_logprobs : -1;
  return out;
}

ParsedRequest parse_chat_request(const json& body, const ApiContext& ctx) {
  ParsedRequest out;
  out.chat = true;
  Fields f(body);
  check_model(out, f, ctx);
  read_common(out, f);
  out.logprobs = f.boolean("logprobs", false);
  if (f.has("top_logprobs")) {
    if (!out.logprobs) {
      throw ApiError(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
    }
    out.top_logprobs = static_cast<int32_t>(f.integer("top_logprobs", 0, 0, 20));
  }
  f.mark("top_logprobs");

  f.mark("messages");
  if (!f.has("messages") || !f.at("messages").is_array() || f.at("messages").empty()) {
    throw ApiError(400, "'messages' must be a non-empty array of {role, content}", "messages");
  }
  std::vector<ChatMessage> messages;
  size_t i = 0;
  for (const json& m : f.at("messages")) {
    const std::string where = fmt::format("messages[{}]", i++);
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      throw ApiError(400, where + " needs a string 'role'", where);
    }
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    const json c = m.value("content", json(nullptr));
    if (c.is_string()) {
      msg.content = c.get<std::string>();
    } else if (c.is_array()) {
      // Content parts: text only (this server takes no images over the API).
      for (const json& part : c) {
        // Compared as JSON: value("type", "") would throw for a "type" that is not a string.
        if (!part.is_object() || !part.contains("type") || part["type"] != "text" ||
            !part.contains("text") || !part["text"].is_string()) {
          throw ApiError(400, where + ".content: only {\"type\": \"text\", \"text\": ...} "
                                      "parts are supported", where + ".content");
        }
        msg.content += part["text"].get<std::string>();
      }
    } else {
      throw ApiError(400, where + ".content must be a string or an array of text parts",
                     where + ".content");
    }
    messages.push_back(std::move(msg));
  }
  if (ctx.chat_template == nullptr) throw ApiError(400, ctx.chat_problem, "messages");
  try {
    out.prompt_text = ctx.chat_template->render(messages, /*add_generation_prompt=*/true);
  } catch (const std::exception& e) {
    throw ApiError(400, e.what(), "messages");
  }
  out.spec.prompt = ctx.tokenizer->encode(out.prompt_text, !ctx.chat_template->renders_bos());
  f.mark("max_tokens");
  const char* max_param = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  fit_context(out, f, ctx, "messages", max_param, 0);
  f.reject_unknown();
  for (const std::string& s : ctx.chat_template->stop_strings()) out.spec.stop.push_back(s);
  split_stop_tokens(out.spec, *ctx.tokenizer);
  out.spec.logprobs = out.logprobs ? out.top_logprobs : -1;
  return out;
}

}  // namespace bricks::serve
