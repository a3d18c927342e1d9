#include "serve/openai_response.h"

#include <algorithm>

namespace bricks::serve {

using nlohmann::json;

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* finish_reason_text(engine::FinishReason f) {
  switch (f) {
    case engine::FinishReason::kStop: return "stop";
    case engine::FinishReason::kLength: return "length";
    default: return "";
  }
}

namespace {

// Bytes at the end of `s` that begin a UTF-8 character not yet complete.
size_t incomplete_utf8_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) != 0x80) {  // a lead byte (or ASCII): how long is its character?
      const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return len > back ? back : 0;
    }
  }
  return 0;
}

// The longest tail of `s` that is a proper prefix of some stop string.
size_t stop_prefix_tail(const std::string& s, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops) {
    for (size_t k = std::min(stop.size() - 1, s.size()); k > hold; --k) {
      if (s.compare(s.size() - k, k, stop, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (char c : s) b.push_back(static_cast<unsigned char>(c));
  return b;
}

}  // namespace

ResponseBuilder::ResponseBuilder(const ParsedRequest& req, const model::Tokenizer& tokenizer,
                                 std::string id, int64_t created)
    : req_(req), tok_(tokenizer), id_(std::move(id)), created_(created) {
  if (req_.echo) text_ = req_.prompt_text;
}

std::string ResponseBuilder::frame(const json& j) { return "data: " + dump_json(j) + "\n\n"; }

json ResponseBuilder::chunk(const std::string& text, const json& logprobs,
                            const json& finish) const {
  json choice = {{"index", 0}, {"logprobs", logprobs}, {"finish_reason", finish}};
  json j = {{"id", id_}, {"created", created_}, {"model", req_.model}};
  if (req_.chat) {
    j["object"] = "chat.completion.chunk";
    choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  } else {
    j["object"] = "text_completion";
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  if (req_.include_usage) j["usage"] = nullptr;
  return j;
}

// Usage as OpenAI defines it, plus the server's own view of the request's latency
// (arrival to first token and to the end, seconds), so that a client can tell the time
// the network and the HTTP layer add from the engine's.
json ResponseBuilder::usage(const DoneEvent& d) const {
  json u = {{"prompt_tokens", d.prompt_tokens},
            {"completion_tokens", d.completion_tokens},
            {"total_tokens", d.prompt_tokens + d.completion_tokens}};
  u["server_timing"] = {{"ttft_s", d.ttft_s}, {"e2e_s", d.e2e_s}};
  return u;
}

json ResponseBuilder::logprobs_of(const std::vector<TokenEvent>& tokens, size_t text_offset) const {
  if (!req_.logprobs) return nullptr;
  if (req_.chat) {
    json content = json::array();
    for (const TokenEvent& e : tokens) {
      if (!e.logprobs) continue;
      const std::string piece = tok_.piece(e.token);
      json top = json::array();
      for (const engine::TokenLogprob& t : e.logprobs->top) {
        const std::string p = tok_.piece(t.token);
        top.push_back({{"token", p}, {"logprob", t.logprob}, {"bytes", bytes_of(p)}});
      }
      content.push_back({{"token", piece}, {"logprob", e.logprobs->logprob},
                         {"bytes", bytes_of(piece)}, {"top_logprobs", top}});
    }
    return json{{"content", content}};
  }
  json toks = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  for (const TokenEvent& e : tokens) {
    if (!e.logprobs) continue;
    const std::string piece = tok_.piece(e.token);
    toks.push_back(piece);
    lps.push_back(e.logprobs->logprob);
    json top = json::object();
    for (const engine::TokenLogprob& t : e.logprobs->top) top[tok_.piece(t.token)] = t.logprob;
    tops.push_back(top);
    offs.push_back(text_offset);
    text_offset += piece.size();
  }
  return json{{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops},
              {"text_offset", offs}};
}

std::string ResponseBuilder::stream_start() {
  std::string out;
  if (req_.chat) {
    json j = chunk("", nullptr, nullptr);
    j["choices"][0]["delta"] = {{"role", "assistant"}, {"content", ""}};
    out += frame(j);
  }
  if (req_.echo && !text_.empty()) {
    out += frame(chunk(text_, nullptr, nullptr));
    offset_ = sent_ = text_.size();
  }
  return out;
}

std::string ResponseBuilder::stream_token(const TokenEvent& e) {
  text_ += e.piece;
  const size_t hold = std::max(incomplete_utf8_tail(text_), stop_prefix_tail(text_, req_.spec.stop));
  const size_t ready = text_.size() - std::min(hold, text_.size() - sent_);
  const std::string text = text_.substr(sent_, ready - sent_);
  const json lp = logprobs_of({e}, offset_);
  if (e.logprobs) offset_ += tok_.piece(e.token).size();
  if (text.empty() && lp.is_null()) return {};
  sent_ = ready;
  return frame(chunk(text, lp, nullptr));
}

std::string ResponseBuilder::stream_done(const DoneEvent& d) {
  std::string out;
  if (d.finish == engine::FinishReason::kFailed) {
    const ApiError err(d.cancelled ? 503 : 500, d.failure, {}, "server_error");
    out += frame(err.body());
  } else {
    // The engine's final text is the streamed text plus what was held back, minus a stop
    // string that completed.
    const std::string final_text = (req_.echo ? req_.prompt_text : std::string()) + d.text;
    const std::string rest = final_text.size() > sent_ ? final_text.substr(sent_) : std::string();
    out += frame(chunk(rest, nullptr, finish_reason_text(d.finish)));
  }
  if (req_.include_usage) {
    json u = {{"id", id_}, {"object", req_.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created_}, {"model", req_.model}, {"choices", json::array()},
              {"usage", usage(d)}};
    out += frame(u);
  }
  out += "data: [DONE]\n\n";
  return out;
}

json ResponseBuilder::full(const std::vector<TokenEvent>& tokens, const DoneEvent& d) const {
  const std::string text = (req_.echo ? req_.prompt_text : std::string()) + d.text;
  json choice = {{"index", 0}, {"finish_reason", finish_reason_text(d.finish)},
                 {"logprobs", logprobs_of(tokens, req_.echo ? req_.prompt_text.size() : 0)}};
  json j = {{"id", id_}, {"created", created_}, {"model", req_.model}};
  if (req_.chat) {
    j["object"] = "chat.completion";
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    j["object"] = "text_completion";
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  j["usage"] = usage(d);
  return j;
}

}  // namespace bricks::serve
