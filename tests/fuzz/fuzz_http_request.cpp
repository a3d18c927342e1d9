// Fuzzes the request parsing of `bricks serve` (openai_request.h): the bytes as the body of a
// POST to /v1/completions and to /v1/chat/completions, parsed against a server of the builtin
// tokenizer with a 512-token context, a base model and one LoRA adapter, under every chat
// template family and under none; and the same bytes as a model's own chat template text.
// An ApiError (the server's 4xx answer) and a ChatTemplateError are the outcomes bad bytes
// should have; any other exception (which the server would answer with a 500), a crash or a
// sanitizer report is a finding.
//
// The route dispatch (api_routes.h) is not driven: it needs a running engine behind it.
#include <string>

#include "fuzz_support.h"
#include "serve/chat_template.h"
#include "serve/openai_request.h"

namespace {

namespace serve = bricks::serve;

serve::ApiContext context(const serve::ChatTemplate* chat_template) {
  serve::ApiContext ctx;
  ctx.tokenizer = &bricks::fuzz::builtin_tokenizer();
  ctx.context_length = 512;
  ctx.vocab_size = ctx.tokenizer->vocab_size();
  ctx.models = {{"tiny", ""}, {"tiny-lora", "lora"}};
  ctx.chat_template = chat_template;
  ctx.chat_problem = "this model has no chat template";
  return ctx;
}

void parse(const nlohmann::json& body, const serve::ApiContext& ctx, bool chat) {
  try {
    const serve::ParsedRequest r =
        chat ? serve::parse_chat_request(body, ctx) : serve::parse_completion_request(body, ctx);
    for (int32_t id : r.spec.prompt) {
      if (id < 0 || id >= ctx.vocab_size) __builtin_trap();  // a prompt the engine cannot run
    }
    if (r.spec.prompt.empty() ||
        static_cast<int64_t>(r.spec.prompt.size()) + r.spec.max_new_tokens > ctx.context_length) {
      __builtin_trap();  // a request that was accepted though it cannot fit the context
    }
  } catch (const serve::ApiError& e) {
    (void)e.body();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    (void)serve::ChatTemplate::from_model(bytes);
  } catch (const serve::ChatTemplateError&) {
  }
  nlohmann::json body;
  try {
    body = serve::parse_json_body(bytes);
  } catch (const serve::ApiError& e) {
    (void)e.body();
    return 0;
  }
  parse(body, context(nullptr), false);
  parse(body, context(nullptr), true);
  for (const std::string& name : serve::ChatTemplate::names()) {
    const serve::ChatTemplate t = serve::ChatTemplate::from_name(name);
    parse(body, context(&t), true);
  }
  return 0;
}
