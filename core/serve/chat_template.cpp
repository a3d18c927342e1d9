// Each family's prompt, written out from its official Jinja template (chat_template.h names
// them). The Jinja is not interpreted: a template is recognised by its markers and the family's
// format is produced by code, so what a family renders is fixed and tested.
#include "serve/chat_template.h"

#include <array>
#include <cstdint>
#include <utility>

#include "host/did_you_mean.h"
#include "manifest/chat_template_names.h"

namespace bricks::serve {
namespace {

// Positions in manifest::chat_template_names().
enum Family : size_t { kChatml, kLlama2, kLlama3, kMistral, kZephyr, kGemma, kFamilies };

struct Traits {
  bool renders_bos;
  std::vector<std::string> stop_strings;
};

const Traits& traits(size_t family) {
  static const std::array<Traits, kFamilies> t = {{
      {false, {"<|im_end|>"}},    // chatml
      {true, {}},                 // llama-2
      {true, {"<|eot_id|>"}},     // llama-3
      {true, {}},                 // mistral
      {false, {}},                // zephyr
      {true, {"<end_of_turn>"}},  // gemma
  }};
  return t[family];
}

enum class Role { kSystem, kUser, kAssistant };

// "a user message", "an assistant message".
std::string a_message(Role r) {
  switch (r) {
    case Role::kSystem:
      return "a system message";
    case Role::kUser:
      return "a user message";
    case Role::kAssistant:
      return "an assistant message";
  }
  return "";
}

std::string fix_hint() {
  return "set the manifest's model.chat_template to the format the model was trained on (" +
         host::join(manifest::chat_template_names()) + ")";
}

// The code point that starts at s[i] and its length in bytes; -1 (length 1) for a byte that
// does not start a valid UTF-8 sequence.
std::pair<int32_t, size_t> decode(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return {b, 1};
  const size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return {-1, 1};
  int32_t c = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cb = static_cast<unsigned char>(s[i + k]);
    if ((cb & 0xC0) != 0x80) return {-1, 1};
    c = (c << 6) | (cb & 0x3F);
  }
  return {c, n};
}

// Python's str.isspace(), which str.strip() and Jinja's trim filter remove.
bool is_space(int32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::string_view strip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    const auto [c, n] = decode(s, begin);
    if (!is_space(c)) break;
    begin += n;
  }
  size_t end = s.size();
  while (end > begin) {
    size_t start = end - 1;  // back to the lead byte of the last character
    while (start > begin && end - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    const auto [c, n] = decode(s, start);
    if (start + n != end || !is_space(c)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::vector<Role> roles_of(std::span<const ChatMessage> messages) {
  if (messages.empty()) {
    throw ChatTemplateError("no messages to render: a conversation needs at least one message");
  }
  std::vector<Role> roles;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r == "system") {
      roles.push_back(Role::kSystem);
    } else if (r == "user") {
      roles.push_back(Role::kUser);
    } else if (r == "assistant") {
      roles.push_back(Role::kAssistant);
    } else {
      throw ChatTemplateError("message " + std::to_string(i) + " has role '" + r +
                              "'; the roles are system, user and assistant");
    }
  }
  return roles;
}

// The rule of llama-2, mistral and gemma: an optional system message first, then user and
// assistant messages alternating, starting with user. Returns whether there is a system message.
bool check_alternation(const std::vector<Role>& roles, const std::string& family) {
  const bool system = roles[0] == Role::kSystem;
  const size_t first = system ? 1 : 0;
  if (first == roles.size()) {
    throw ChatTemplateError("message 0 is a system message with no user message after it: " +
                            family + " puts the system message into the first user turn");
  }
  for (size_t i = first; i < roles.size(); ++i) {
    const Role want = (i - first) % 2 == 0 ? Role::kUser : Role::kAssistant;
    if (roles[i] == want) continue;
    if (roles[i] == Role::kSystem) {
      throw ChatTemplateError("message " + std::to_string(i) + " is a system message; " + family +
                              " takes a system message only as the first message");
    }
    throw ChatTemplateError("message " + std::to_string(i) + " is " + a_message(roles[i]) +
                            " where " + family + " expects " + a_message(want) +
                            ": after an optional first system message, user and assistant "
                            "messages alternate, starting with user");
  }
  return system;
}

std::string chatml(std::span<const ChatMessage> m, bool gen) {
  std::string out;
  for (const ChatMessage& msg : m) {
    out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string llama3(std::span<const ChatMessage> m, bool gen) {
  std::string out = "<|begin_of_text|>";
  for (const ChatMessage& msg : m) {
    out += "<|start_header_id|>" + msg.role + "<|end_header_id|>\n\n";
    out += strip(msg.content);
    out += "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string llama2(std::span<const ChatMessage> m, bool system) {
  std::string out;
  for (size_t i = system ? 1 : 0; i < m.size(); ++i) {
    if (m[i].role == "user") {
      std::string content;  // the system block is stripped together with the first turn
      if (system && i == 1)
        content.append("<<SYS>>\n").append(m[0].content).append("\n<</SYS>>\n\n");
      content += m[i].content;
      out += "<s>[INST] ";
      out += strip(content);
      out += " [/INST]";
    } else {
      out += " ";
      out += strip(m[i].content);
      out += " </s>";
    }
  }
  return out;
}

std::string mistral(std::span<const ChatMessage> m, bool system) {
  std::string out = "<s>";
  for (size_t i = system ? 1 : 0; i < m.size(); ++i) {
    if (m[i].role == "user") {
      out += " [INST] ";
      if (system && i == 1) out += m[0].content + "\n\n";
      out += m[i].content + " [/INST]";
    } else {
      out += " " + m[i].content + "</s>";
    }
  }
  return out;
}

std::string zephyr(std::span<const ChatMessage> m, bool gen) {
  std::string out;
  for (const ChatMessage& msg : m) out += "<|" + msg.role + "|>\n" + msg.content + "</s>\n";
  if (gen) out += "<|assistant|>\n";
  return out;
}

std::string gemma(std::span<const ChatMessage> m, bool system, bool gen) {
  std::string out = "<bos>";
  for (size_t i = system ? 1 : 0; i < m.size(); ++i) {
    out += m[i].role == "assistant" ? "<start_of_turn>model\n" : "<start_of_turn>user\n";
    if (system && i == 1) out += m[0].content + "\n\n";
    out += strip(m[i].content);
    out += "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace

ChatTemplate ChatTemplate::from_model(std::string_view t) {
  if (t.empty()) {
    throw ChatTemplateError(
        "the model carries no chat template (GGUF key "
        "tokenizer.chat_template, or chat_template in tokenizer_config.json); " +
        fix_hint());
  }
  auto has = [&](std::string_view marker) { return t.find(marker) != std::string_view::npos; };
  std::vector<size_t> found;
  if (has("<|im_start|>")) found.push_back(kChatml);
  if (has("<|start_header_id|>")) found.push_back(kLlama3);
  if (has("[INST]")) found.push_back(has("<<SYS>>") ? kLlama2 : kMistral);
  if (has("<|user|>") && has("<|assistant|>") && (has("eos_token") || has("</s>")) &&
      !has("<|end|>")) {
    found.push_back(kZephyr);
  }
  if (has("<start_of_turn>")) found.push_back(kGemma);
  const std::vector<std::string>& n = names();
  if (found.empty()) {
    throw ChatTemplateError(
        "the model's chat template is none of the formats this runtime renders: it has none of "
        "<|im_start|> (chatml), <|start_header_id|> (llama-3), [INST] with <<SYS>> (llama-2), "
        "[INST] without <<SYS>> (mistral), <|user|> and <|assistant|> turns ended by eos_token "
        "or </s> (zephyr), <start_of_turn> (gemma); if the model was trained on one of these "
        "formats, " +
        fix_hint());
  }
  if (found.size() > 1) {
    std::vector<std::string> which;
    for (size_t f : found) which.push_back(n[f]);
    throw ChatTemplateError("the model's chat template has the markers of several formats (" +
                            host::join(which) + "); " + fix_hint());
  }
  if (found[0] == kMistral &&
      (has("[AVAILABLE_TOOLS]") || has("[TOOL_CALLS]") || has("[SYSTEM_PROMPT]"))) {
    throw ChatTemplateError(
        "the model's chat template is a later Mistral format (with [AVAILABLE_TOOLS], "
        "[TOOL_CALLS] or [SYSTEM_PROMPT], as Mistral-7B-Instruct-v0.3, Nemo and Small have), "
        "which spaces [INST] differently and places the system message elsewhere than the "
        "mistral format this runtime renders; set the manifest's model.chat_template to "
        "\"mistral\" to use that format anyway");
  }
  return ChatTemplate(found[0]);
}

ChatTemplate ChatTemplate::from_name(std::string_view name) {
  const std::vector<std::string>& n = names();
  for (size_t i = 0; i < n.size(); ++i) {
    if (n[i] == name) return ChatTemplate(i);
  }
  std::string msg = "unknown chat template '" + std::string(name) + "'; ";
  if (auto close = host::closest_match(name, n)) msg += "did you mean '" + *close + "'? ";
  throw ChatTemplateError(msg + "(the chat templates: " + host::join(n) + ")");
}

const std::vector<std::string>& ChatTemplate::names() { return manifest::chat_template_names(); }

const std::string& ChatTemplate::name() const { return names()[family_]; }

bool ChatTemplate::renders_bos() const { return traits(family_).renders_bos; }

const std::vector<std::string>& ChatTemplate::stop_strings() const {
  return traits(family_).stop_strings;
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages,
                                 bool add_generation_prompt) const {
  const std::vector<Role> roles = roles_of(messages);
  switch (family_) {
    case kChatml:
      return chatml(messages, add_generation_prompt);
    case kLlama3:
      return llama3(messages, add_generation_prompt);
    case kZephyr:
      return zephyr(messages, add_generation_prompt);
    case kLlama2:
      return llama2(messages, check_alternation(roles, name()));
    case kMistral:
      return mistral(messages, check_alternation(roles, name()));
    case kGemma:
      return gemma(messages, check_alternation(roles, name()), add_generation_prompt);
    default:
      break;
  }
  throw ChatTemplateError("chat template family " + std::to_string(family_) + " has no renderer");
}

}  // namespace bricks::serve
