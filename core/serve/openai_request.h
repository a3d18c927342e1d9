// Requests of the OpenAI API (/v1/completions, /v1/chat/completions) read and checked into
// what the engine runs. Every problem is an ApiError naming the parameter, as OpenAI's own
// error object does; nothing a client sends reaches the filesystem.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bricks/model/tokenizer.h"
#include "engine/request.h"

namespace bricks::serve {

class ChatTemplate;

// An HTTP error with OpenAI's error object: {"error": {message, type, param, code}}.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {},
           std::string type = "invalid_request_error", std::string code = {});
  int status;
  std::string type, param, code;
  nlohmann::json body() const;
};

// A model id the server answers to: the base model, or one of the manifest's LoRA adapters.
struct ServedModel {
  std::string id;
  std::string adapter;  // model.adapters name; empty for the base model
};

// What requests are checked against.
struct ApiContext {
  const model::Tokenizer* tokenizer = nullptr;
  int32_t context_length = 0;
  int32_t vocab_size = 0;
  std::vector<ServedModel> models;  // [0] is the base model
  const ChatTemplate* chat_template = nullptr;  // null: chat requests fail with chat_problem
  std::string chat_problem;
  int64_t created = 0;  // unix seconds the server started (model listing)
};

struct ParsedRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;           // completions: the prompt's text leads the output
  bool logprobs = false;       // report log-probabilities
  int32_t top_logprobs = 0;    // and this many alternatives per token
  std::string model;           // the id asked for
  std::string prompt_text;     // the prompt as text (echo)
  engine::RequestSpec spec;    // prompt ids, max tokens, sampling, stop, adapter, logprobs
};

// Both throw ApiError (400 for a bad parameter, 404 for an unknown model).
ParsedRequest parse_completion_request(const nlohmann::json& body, const ApiContext& ctx);
ParsedRequest parse_chat_request(const nlohmann::json& body, const ApiContext& ctx);

// The body as JSON, or ApiError 400 saying where it is malformed.
nlohmann::json parse_json_body(const std::string& body);

// Refuses, as OpenAI's API does, a field of `body` that `known(name)` is false for: ApiError
// 400 naming the first.
void reject_unknown_fields(const nlohmann::json& body,
                           const std::function<bool(const std::string&)>& known);

}  // namespace bricks::serve
