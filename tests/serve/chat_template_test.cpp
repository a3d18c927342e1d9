// Chat templates: each family is recognised from its official template text and renders what
// transformers' apply_chat_template renders from that text (Jinja2 with trim_blocks and
// lstrip_blocks, the families' BOS/EOS texts; every expected string below was produced that
// way); conversations a family cannot render are errors naming the message.
#include "serve/chat_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bricks/model/model.h"
#include "test_models.h"

namespace bricks::serve {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The families' templates as their models' tokenizer_config.json files carry them.
// teknium/OpenHermes-2.5-Mistral-7B
const char* const kChatmlJinja =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' "
    "}}{% endif %}";
// meta-llama/Meta-Llama-3-8B-Instruct
const char* const kLlama3Jinja =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
    "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif "
    "%}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
// meta-llama/Llama-2-7b-chat-hf
const char* const kLlama2Jinja =
    R"({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})";
// mistralai/Mistral-7B-Instruct-v0.2 (the "v1" template)
const char* const kMistralJinja = R"({%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
)";
// HuggingFaceH4/zephyr-7b-beta
const char* const kZephyrJinja =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
    "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' "
    "+ message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ "
    "'<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and "
    "add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
// google/gemma-3-1b-it
const char* const kGemmaJinja = R"({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
)";

const std::vector<ChatMessage> kConversation = {{"system", "You are a helpful assistant"},
                                                {"user", "Hello"},
                                                {"assistant", "Hi there"},
                                                {"user", "Who are you"}};

struct Family {
  std::string name;
  const char* jinja;
  std::string rendered;  // kConversation with the generation prompt
  bool renders_bos;
  std::vector<std::string> stops;
};

const Family kFamilies[] = {
    {"chatml",
     kChatmlJinja,
     "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>"
     "\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
     "<|im_start|>assistant\n",
     false,
     {"<|im_end|>"}},
    {"llama-2",
     kLlama2Jinja,
     "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>"
     "<s>[INST] Who are you [/INST]",
     true,
     {}},
    {"llama-3",
     kLlama3Jinja,
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
     "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
     "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user"
     "<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     true,
     {"<|eot_id|>"}},
    {"mistral",
     kMistralJinja,
     "<s> [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you "
     "[/INST]",
     true,
     {}},
    {"zephyr",
     kZephyrJinja,
     "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi "
     "there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n",
     false,
     {}},
    {"gemma",
     kGemmaJinja,
     "<bos><start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n"
     "<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are "
     "you<end_of_turn>\n<start_of_turn>model\n",
     true,
     {"<end_of_turn>"}},
};

class ChatFamily : public ::testing::TestWithParam<Family> {};

TEST_P(ChatFamily, IsRecognisedFromItsOfficialTemplate) {
  EXPECT_EQ(ChatTemplate::from_model(GetParam().jinja).name(), GetParam().name);
}

TEST_P(ChatFamily, RendersAsTheOfficialTemplateDoes) {
  const Family& f = GetParam();
  const ChatTemplate t = ChatTemplate::from_name(f.name);
  EXPECT_EQ(t.name(), f.name);
  EXPECT_EQ(t.render(kConversation, true), f.rendered);
  EXPECT_EQ(t.renders_bos(), f.renders_bos);
  EXPECT_EQ(t.stop_strings(), f.stops);
  // The rendered BOS is the family's: what renders_bos() tells the caller not to add again.
  EXPECT_EQ(t.renders_bos(), f.rendered.starts_with("<s>") ||
                                 f.rendered.starts_with("<|begin_of_text|>") ||
                                 f.rendered.starts_with("<bos>"));
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, ChatFamily, ::testing::ValuesIn(kFamilies),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::erase(n, '-');
                           return n;
                         });

std::string render(const std::string& family, const std::vector<ChatMessage>& m, bool gen) {
  return ChatTemplate::from_name(family).render(m, gen);
}

TEST(ChatTemplate, OneUserMessageWithTheGenerationPrompt) {
  const std::vector<ChatMessage> m = {{"user", "Hello"}};
  EXPECT_EQ(render("chatml", m, true),
            "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render("llama-3", m, true),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render("llama-2", m, true), "<s>[INST] Hello [/INST]");
  EXPECT_EQ(render("mistral", m, true), "<s> [INST] Hello [/INST]");
  EXPECT_EQ(render("zephyr", m, true), "<|user|>\nHello</s>\n<|assistant|>\n");
  EXPECT_EQ(render("gemma", m, true),
            "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n");
  // Without the generation prompt the turn header is not written.
  EXPECT_EQ(render("chatml", m, false), "<|im_start|>user\nHello<|im_end|>\n");
  EXPECT_EQ(render("gemma", m, false), "<bos><start_of_turn>user\nHello<end_of_turn>\n");
}

// llama-3 and gemma trim each message, llama-2 strips each turn (its system block included),
// the others keep the text as it is; Unicode spaces count, as in Python.
TEST(ChatTemplate, WhitespaceIsTrimmedWhereTheOfficialTemplateTrims) {
  const std::vector<ChatMessage> m = {{"system", "  Be brief. "},
                                      {"user", " Hi\n"},
                                      {"assistant", "   I am an assistant   "},
                                      {"user", "\u00a0Why?\u3000"}};
  EXPECT_EQ(render("chatml", m, false),
            "<|im_start|>system\n  Be brief. <|im_end|>\n<|im_start|>user\n Hi\n<|im_end|>\n"
            "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\n"
            "\u00a0Why?\u3000<|im_end|>\n");
  EXPECT_EQ(render("llama-3", m, false),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant"
            "<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user"
            "<|end_header_id|>\n\nWhy?<|eot_id|>");
  EXPECT_EQ(render("llama-2", m, false),
            "<s>[INST] <<SYS>>\n  Be brief. \n<</SYS>>\n\n Hi [/INST] I am an assistant </s>"
            "<s>[INST] Why? [/INST]");
  EXPECT_EQ(render("mistral", m, false),
            "<s> [INST]   Be brief. \n\n Hi\n [/INST]    I am an assistant   </s> [INST] "
            "\u00a0Why?\u3000 [/INST]");
  EXPECT_EQ(render("zephyr", m, false),
            "<|system|>\n  Be brief. </s>\n<|user|>\n Hi\n</s>\n<|assistant|>\n   I am an "
            "assistant   </s>\n<|user|>\n\u00a0Why?\u3000</s>\n");
  EXPECT_EQ(render("gemma", m, false),
            "<bos><start_of_turn>user\n  Be brief. \n\nHi<end_of_turn>\n<start_of_turn>model\nI "
            "am an assistant<end_of_turn>\n<start_of_turn>user\nWhy?<end_of_turn>\n");
  // Only whitespace, and bytes that are not UTF-8, are handled too.
  EXPECT_EQ(render("gemma", {{"user", " \t\n"}}, false),
            "<bos><start_of_turn>user\n<end_of_turn>\n");
  EXPECT_EQ(render("llama-3", {{"user", " \xff "}}, false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n\xff<|eot_id|>");
}

// chatml, llama-3 and zephyr render the messages in any order, as their templates do.
TEST(ChatTemplate, FreeOrderFamiliesTakeAnyOrder) {
  const std::vector<ChatMessage> m = {
      {"assistant", "Hi"}, {"system", "S"}, {"user", "U"}, {"user", "V"}};
  EXPECT_EQ(render("chatml", m, false),
            "<|im_start|>assistant\nHi<|im_end|>\n<|im_start|>system\nS<|im_end|>\n"
            "<|im_start|>user\nU<|im_end|>\n<|im_start|>user\nV<|im_end|>\n");
  EXPECT_NO_THROW(render("llama-3", m, true));
  EXPECT_NO_THROW(render("zephyr", m, true));
}

std::string render_error(const std::string& family, const std::vector<ChatMessage>& m) {
  try {
    render(family, m, true);
  } catch (const ChatTemplateError& e) {
    return e.what();
  }
  ADD_FAILURE() << family << " rendered a conversation it should reject";
  return {};
}

TEST(ChatTemplate, ConversationErrorsNameTheMessage) {
  for (const std::string& f : ChatTemplate::names()) {
    EXPECT_THAT(render_error(f, {}), HasSubstr("no messages to render")) << f;
    EXPECT_EQ(render_error(f, {{"user", "a"}, {"tool", "b"}}),
              "message 1 has role 'tool'; the roles are system, user and assistant")
        << f;
  }
  for (const std::string f : {"llama-2", "mistral", "gemma"}) {
    EXPECT_EQ(render_error(f, {{"system", "s"}, {"user", "a"}, {"user", "b"}}),
              "message 2 is a user message where " + f +
                  " expects an assistant message: after an optional first system message, user "
                  "and assistant messages alternate, starting with user");
    EXPECT_THAT(
        render_error(f, {{"assistant", "a"}, {"user", "b"}}),
        HasSubstr("message 0 is an assistant message where " + f + " expects a user message"));
    EXPECT_EQ(render_error(f, {{"user", "a"}, {"assistant", "b"}, {"system", "c"}}),
              "message 2 is a system message; " + f +
                  " takes a system message only as the first message");
    EXPECT_EQ(render_error(f, {{"system", "s"}}),
              "message 0 is a system message with no user message after it: " + f +
                  " puts the system message into the first user turn");
  }
  // Ending on the assistant's message is allowed (a conversation to continue or to score).
  EXPECT_EQ(render("llama-2", {{"user", "a"}, {"assistant", "b"}}, true),
            "<s>[INST] a [/INST] b </s>");
}

TEST(ChatTemplate, FromModelNeverGuesses) {
  auto error = [](std::string_view jinja) {
    try {
      ChatTemplate::from_model(jinja);
    } catch (const ChatTemplateError& e) {
      return std::string(e.what());
    }
    return std::string("recognised");
  };
  EXPECT_THAT(error(""), AllOf(HasSubstr("the model carries no chat template"),
                               HasSubstr("model.chat_template"),
                               HasSubstr("chatml, llama-2, llama-3, mistral, zephyr, gemma")));
  // Vicuna (no markers at all) and Phi-3.5 (<|user|> turns ended by <|end|>): not a family here.
  const std::string vicuna =
      "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + "
      "message['content'] + '\n\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' "
      "+ message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + "
      "'</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt "
      "-%}{{-'ASSISTANT:'-}}{%- endif -%}";
  const std::string phi3 =
      "{% for message in messages %}{% if message['role'] == 'system' and message['content'] "
      "%}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' "
      "%}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == "
      "'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% "
      "endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% "
      "endif %}";
  for (const std::string& t : {vicuna, phi3}) {
    EXPECT_THAT(error(t),
                AllOf(HasSubstr("none of the formats this runtime renders"),
                      HasSubstr("<|im_start|> (chatml)"), HasSubstr("<start_of_turn> (gemma)"),
                      HasSubstr("model.chat_template")));
  }
  EXPECT_THAT(error(std::string(kChatmlJinja) + kGemmaJinja),
              HasSubstr("the model's chat template has the markers of several formats (chatml, "
                        "gemma)"));
  // Mistral-7B-Instruct-v0.3 (tool calls; system message before the last user message).
  const std::string mistral_v3 =
      "{%- if messages[0][\"role\"] == \"system\" %}{%- set system_message = "
      "messages[0][\"content\"] %}{%- set loop_messages = messages[1:] %}{%- endif %}{{- "
      "bos_token }}{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" "
      "%}{%- if tools is not none and (message == user_messages[-1]) %}{{- "
      "\"[AVAILABLE_TOOLS] [\" }}{%- endif %}{%- if loop.last and system_message is defined "
      "%}{{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" "
      "}}{%- else %}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}{%- endif %}{%- "
      "endif %}{%- endfor %}";
  EXPECT_THAT(error(mistral_v3), AllOf(HasSubstr("a later Mistral format"),
                                       HasSubstr("model.chat_template to \"mistral\"")));
  // Llama 3.1's template (date header, tools) is the llama-3 family.
  const std::string llama31 =
      "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = \"26 Jul 2024\" "
      "%}{%- endif %}{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting "
      "Knowledge Date: December 2023\\n\" }}{%- for message in messages %}{{- "
      "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
      "trim + '<|eot_id|>' }}{%- endfor %}";
  EXPECT_EQ(ChatTemplate::from_model(llama31).name(), "llama-3");
}

TEST(ChatTemplate, NamesAndUnknownNames) {
  EXPECT_EQ(ChatTemplate::names(), (std::vector<std::string>{"chatml", "llama-2", "llama-3",
                                                             "mistral", "zephyr", "gemma"}));
  for (const std::string& n : ChatTemplate::names())
    EXPECT_EQ(ChatTemplate::from_name(n).name(), n);
  EXPECT_THAT([] { ChatTemplate::from_name("llama2"); },
              ::testing::ThrowsMessage<ChatTemplateError>(
                  "unknown chat template 'llama2'; did you mean 'llama-2'? (the chat templates: "
                  "chatml, llama-2, llama-3, mistral, zephyr, gemma)"));
  EXPECT_THAT([] { ChatTemplate::from_name("vicuna"); },
              ::testing::ThrowsMessage<ChatTemplateError>(
                  AllOf(HasSubstr("unknown chat template 'vicuna'"), Not(HasSubstr("did you mean")),
                        HasSubstr("chatml, llama-2"))));
}

// The builtin models carry ChatML (make-model writes it), so a server can chat with them.
TEST(ChatTemplate, BuiltinModelsAreChatml) {
  auto m = model::Model::open(testing::process_model("tiny"));
  const ChatTemplate t = ChatTemplate::from_model(m->chat_template());
  EXPECT_EQ(t.name(), "chatml");
  EXPECT_FALSE(t.renders_bos());
}

}  // namespace
}  // namespace bricks::serve
