// Responses of the OpenAI API built from the engine's events: whole completion objects,
// and server-sent-event chunks for streams.
//
// A stream never shows text that a stop string later removes: the tail that could still
// become a stop string is held back until it cannot, and a UTF-8 character split between
// tokens goes out whole. The streamed text therefore equals the text of the same request
// without streaming.
//
// Thread safety: one builder per request, used by one thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bricks/model/tokenizer.h"
#include "serve/openai_request.h"
#include "serve/request_stream.h"

namespace bricks::serve {

// JSON text that never throws: invalid UTF-8 is replaced by U+FFFD.
std::string dump_json(const nlohmann::json& j);

// "stop", "length", or "" for failures.
const char* finish_reason_text(engine::FinishReason f);

class ResponseBuilder {
 public:
  ResponseBuilder(const ParsedRequest& req, const model::Tokenizer& tokenizer, std::string id,
                  int64_t created);

  // The SSE frames ("data: {...}\n\n") that a token adds; may be empty.
  std::string stream_token(const TokenEvent& e);
  // The closing frames: the rest of the text, the finish reason, usage when asked, and
  // "data: [DONE]". A failure becomes an error frame before [DONE].
  std::string stream_done(const DoneEvent& d);
  // The opening frame of a chat stream (the assistant role); empty for completions.
  std::string stream_start();

  // The whole response of a request that did not stream.
  nlohmann::json full(const std::vector<TokenEvent>& tokens, const DoneEvent& d) const;

 private:
  nlohmann::json chunk(const std::string& text, const nlohmann::json& logprobs,
                       const nlohmann::json& finish) const;
  nlohmann::json usage(const DoneEvent& d) const;
  nlohmann::json logprobs_of(const std::vector<TokenEvent>& tokens, size_t text_offset) const;
  static std::string frame(const nlohmann::json& j);

  const ParsedRequest& req_;
  const model::Tokenizer& tok_;
  std::string id_;
  int64_t created_;
  std::string text_;     // every piece so far
  size_t sent_ = 0;      // bytes of text_ already streamed
  size_t offset_ = 0;    // completions' text_offset of the next token
};

}  // namespace bricks::serve
