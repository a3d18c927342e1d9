// Chat templates: a conversation (system, user and assistant messages) as the prompt text a
// chat model was trained on. Six families are rendered by code, each exactly as its official
// Hugging Face Jinja template renders (transformers' apply_chat_template):
//
//   chatml   <|im_start|>{role}\n{content}<|im_end|>\n ... then <|im_start|>assistant\n
//            (OpenHermes-2.5; the builtin models. Qwen2's template also adds a default
//            system message, which chatml does not)
//   llama-3  <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}
//            <|eot_id|> ... then <|start_header_id|>assistant<|end_header_id|>\n\n
//            (Meta-Llama-3-Instruct; Llama 3.1+ templates are recognised as this family, and
//            the "Cutting Knowledge Date" system header they add is not written)
//   llama-2  <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST]
//            ... (Llama-2-chat; each turn stripped of surrounding whitespace)
//   mistral  <s> [INST] {system}\n\n{user} [/INST] {assistant}</s> [INST] ... (the "v1" template
//            of Mistral-7B-Instruct-v0.1/v0.2 and Mixtral-8x7B-Instruct; the system message
//            goes before the first user message)
//   zephyr   <|system|>\n{system}</s>\n<|user|>\n{user}</s>\n ... then <|assistant|>\n
//            (zephyr-7b-beta, TinyLlama-1.1B-Chat)
//   gemma    <bos><start_of_turn>user\n{system}\n\n{user, trimmed}<end_of_turn>\n
//            <start_of_turn>model\n ... (Gemma 3's template; Gemma 1 and 2 render the same
//            without a system message, and reject one)
//
// "Trimmed" and "stripped" remove what Python's str.strip() removes (Jinja's trim filter).
// The BOS and EOS texts above are those of the families' official models.
//
// Thread safety: a ChatTemplate is an immutable value; any thread may use it.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bricks::serve {

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
};

// What went wrong, in words a user can act on: the template text or name, or the message
// (by index) that breaks the family's rules.
class ChatTemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ChatTemplate {
 public:
  // The family of a model's own Jinja template (Model::chat_template()), recognised by its
  // markers: <|im_start|> (chatml), <|start_header_id|> (llama-3), [INST] with <<SYS>>
  // (llama-2), [INST] without it (mistral), <|user|> and <|assistant|> turns ended by
  // eos_token or </s> (zephyr; Phi-3's <|end|> is not), <start_of_turn> (gemma). Throws
  // ChatTemplateError, never guesses: for an empty text (the model carries no template: name
  // one with the manifest's model.chat_template), for a text with none of the markers (the
  // message lists what was looked for) or with the markers of two families, and for the
  // later Mistral formats (tool calls, [SYSTEM_PROMPT]) whose spacing and system placement
  // differ from the mistral family's.
  static ChatTemplate from_model(std::string_view jinja_text);
  // The family called `name`, one of names(). Throws ChatTemplateError for another name,
  // with a did-you-mean when one is close and the list of names.
  static ChatTemplate from_name(std::string_view name);
  // chatml, llama-2, llama-3, mistral, zephyr, gemma.
  static const std::vector<std::string>& names();

  const std::string& name() const;

  // The prompt text of `messages`; with `add_generation_prompt`, followed by the header of
  // the assistant's turn (llama-2 and mistral have none: their prompt ends with [/INST]).
  // Throws ChatTemplateError naming the message index for a role other than system, user or
  // assistant, and for the family's ordering rules: llama-2, mistral and gemma take an
  // optional system message first, then user and assistant messages alternating from a user
  // one (mistral and gemma put the system message into the first user turn, as their
  // templates do); chatml, llama-3 and zephyr take the messages in any order. Throws for an
  // empty list too.
  std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  // True when render() writes the BOS text itself ("<s>", "<|begin_of_text|>", "<bos>"): the
  // caller then tokenizes the prompt with add_bos = false, or the model sees BOS twice.
  bool renders_bos() const;

  // Texts that end the assistant's reply besides EOS: "<|im_end|>" (chatml), "<|eot_id|>"
  // (llama-3), "<end_of_turn>" (gemma); none for llama-2, mistral and zephyr, whose turns end
  // with EOS. The server adds them as stop strings. Where the model's vocabulary has them
  // as control tokens, a tokenizer's piece() is empty for them: match those by token id.
  const std::vector<std::string>& stop_strings() const;

 private:
  explicit ChatTemplate(size_t family) : family_(family) {}
  size_t family_;  // position in names()
};

}  // namespace bricks::serve
