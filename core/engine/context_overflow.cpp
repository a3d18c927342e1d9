#include "engine/context_overflow.h"

#include <algorithm>

namespace bricks::engine {

const char* context_overflow_name(ContextOverflow o) {
  switch (o) {
    case ContextOverflow::kFail: return "fail";
    case ContextOverflow::kTruncatePrompt: return "truncate_prompt";
    case ContextOverflow::kClampMaxTokens: return "clamp_max_tokens";
  }
  return "fail";
}

bool parse_context_overflow(const std::string& name, ContextOverflow* out) {
  for (ContextOverflow o : {ContextOverflow::kFail, ContextOverflow::kTruncatePrompt,
                            ContextOverflow::kClampMaxTokens}) {
    if (name == context_overflow_name(o)) {
      *out = o;
      return true;
    }
  }
  return false;
}

namespace {

std::string too_long(const RequestSpec& spec, int32_t context) {
  return "prompt of " + std::to_string(spec.prompt.size()) + " tokens plus max_tokens " +
         std::to_string(spec.max_new_tokens) + " exceeds the model's context of " +
         std::to_string(context) + " tokens; shorten the prompt or max_tokens, or set " +
         "workload.context_overflow to truncate_prompt or clamp_max_tokens";
}

}  // namespace

OverflowResult fit_context(RequestSpec& spec, int32_t context) {
  OverflowResult out;
  const int64_t prompt = static_cast<int64_t>(spec.prompt.size());
  if (prompt + spec.max_new_tokens <= context || spec.max_new_tokens < 1 || prompt == 0) {
    return out;  // fits, or fails for another reason the engine names
  }
  switch (spec.context_overflow) {
    case ContextOverflow::kFail:
      out.problem = too_long(spec, context);
      return out;
    case ContextOverflow::kClampMaxTokens: {
      if (prompt >= context) {
        out.problem = "prompt of " + std::to_string(prompt) + " tokens leaves no room in the " +
                      "model's context of " + std::to_string(context) +
                      " tokens for output (context_overflow clamp_max_tokens shortens only " +
                      "max_tokens; truncate_prompt shortens the prompt)";
        return out;
      }
      const int32_t room = static_cast<int32_t>(context - prompt);
      out.max_tokens_clamped = spec.max_new_tokens - room;
      spec.max_new_tokens = room;
      return out;
    }
    case ContextOverflow::kTruncatePrompt: {
      if (spec.max_new_tokens >= context) {
        out.problem = "max_tokens " + std::to_string(spec.max_new_tokens) +
                      " leaves no room for the prompt in the model's context of " +
                      std::to_string(context) + " tokens; ask for fewer";
        return out;
      }
      const int32_t cut = static_cast<int32_t>(prompt - (context - spec.max_new_tokens));
      for (const ImageInput& im : spec.images) {
        if (im.offset < cut && im.end() > cut) {
          out.problem = "truncating the prompt to its last " +
                        std::to_string(prompt - cut) + " tokens would cut the image at " +
                        "offset " + std::to_string(im.offset) + " in two; shorten the prompt " +
                        "or max_tokens";
          return out;
        }
      }
      std::erase_if(spec.images, [cut](const ImageInput& im) { return im.end() <= cut; });
      for (ImageInput& im : spec.images) im.offset -= cut;
      spec.prompt.erase(spec.prompt.begin(), spec.prompt.begin() + cut);
      spec.kv_ready_tokens = std::max(0, spec.kv_ready_tokens - cut);
      out.prompt_truncated = cut;
      return out;
    }
  }
  return out;
}

}  // namespace bricks::engine
