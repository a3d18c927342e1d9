// `bricks tokenize`: the token ids of a text under a model's tokenizer, optionally with each
// token's piece, as plain text or JSON.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bricks/model/model.h"
#include "command.h"
#include "runtime/runtime.h"

namespace bricks::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string builtin;
  std::string text;
  bool no_bos = false;
  bool pieces = false;
  bool json = false;
};

// What token `id` adds to the text; control tokens, which add nothing, show their vocabulary
// text ("<s>", "<|eot_id|>") so that they are visible.
std::string piece_of(const model::Tokenizer& t, int32_t id) {
  std::string p = t.piece(id);
  return p.empty() ? t.token_text(id) : p;
}

// The length of the valid UTF-8 character at s[i], or 0 when s[i] does not start one.
size_t utf8_len(const std::string& s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t n = b < 0x80             ? 1
                   : (b & 0xE0) == 0xC0 ? 2
                   : (b & 0xF0) == 0xE0 ? 3
                   : (b & 0xF8) == 0xF0 ? 4
                                        : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t c = n == 1 ? b : b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cb = static_cast<unsigned char>(s[i + k]);
    if ((cb & 0xC0) != 0x80) return 0;
    c = (c << 6) | (cb & 0x3F);
  }
  const bool overlong = (n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000);
  const bool invalid = c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF);
  return overlong || invalid ? 0 : n;
}

// `s` with \\, \n, \t and \r escaped as in C, other control bytes and bytes outside valid
// UTF-8 as \xHH, and C1 control characters as \u00HH; everything else as it is.
std::string escape(const std::string& s) {
  std::string out;
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_len(s, i);
    if (b == '\\') {
      out += "\\\\";
    } else if (b == '\n') {
      out += "\\n";
    } else if (b == '\t') {
      out += "\\t";
    } else if (b == '\r') {
      out += "\\r";
    } else if (n == 0 || b < 0x20 || b == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02X", b);
      out += buf;
    } else if (n == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned char>(s[i + 1]));
      out += buf;
    } else {
      out.append(s, i, n);
    }
    i += n == 0 ? 1 : n;
  }
  return out;
}

int tokenize(const TokenizeArgs& a) {
  std::string text = a.text;
  if (text == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::filesystem::path path = a.model;
  if (path.empty()) {
    try {
      path = engine::ensure_builtin_model(a.builtin.empty() ? "tiny" : a.builtin, "f32", "models");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitFailure;
    }
  }
  std::unique_ptr<model::Model> m;
  std::vector<int32_t> ids;
  try {
    m = model::Model::open(path);
    ids = m->tokenizer().encode(text, !a.no_bos);
  } catch (const model::ModelError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
  const model::Tokenizer& t = m->tokenizer();
  if (a.json) {
    nlohmann::ordered_json j;
    j["ids"] = ids;
    j["pieces"] = nlohmann::ordered_json::array();
    for (int32_t id : ids) j["pieces"].push_back(piece_of(t, id));
    // Bytes that are not UTF-8 (a character split over byte tokens) become U+FFFD.
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (a.pieces) {
    for (int32_t id : ids) std::printf("%d\t%s\n", id, escape(piece_of(t, id)).c_str());
  } else {
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) line += ' ';
      line += std::to_string(ids[i]);
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

void add_tokenize_flags(CLI::App* cmd, TokenizeArgs* a) {
  auto* model = cmd->add_option("--model", a->model, "Model file (.gguf) or safetensors directory")
                    ->check(CLI::ExistingPath);
  cmd->add_option("--builtin", a->builtin,
                  "Generated model preset when --model is not given (default tiny; made under "
                  "./models as f32 when absent)")
      ->check(CLI::IsMember(bricks::model::model_presets()))
      ->excludes(model);
  cmd->add_flag("--no-bos", a->no_bos, "Do not prepend the BOS token");
  auto* pieces = cmd->add_flag("--pieces", a->pieces,
                               "One line per token: ID<TAB>PIECE, the piece escaped (\\n \\t \\r "
                               "\\\\; \\xHH for other control bytes and bytes that are not UTF-8)");
  cmd->add_flag("--json", a->json,
                "Print {\"ids\":[...],\"pieces\":[...]} (bytes that are not UTF-8 become U+FFFD)")
      ->excludes(pieces);
  cmd->add_option("text", a->text, "The text; - reads it from standard input")
      ->required()
      ->type_name("TEXT");
  cmd->footer(
      "Output: the ids on one line, separated by spaces. A piece is what the token adds to "
      "the text (a byte token: one byte, maybe part of a UTF-8 character); a control token "
      "shows its vocabulary text.\n"
      "Examples:\n"
      "  bricks tokenize 'Once upon a time'\n"
      "  bricks tokenize --model m.gguf --pieces --no-bos \"$(cat prompt.txt)\"\n"
      "  printf '<|im_start|>user\\nHi<|im_end|>\\n' | bricks tokenize --json -\n"
      "Exit code: 0 printed, 1 the builtin model could not be made, 2 bad command line, 3 the "
      "model could not be read or has no tokenizer.");
}

const Command kTokenize{
    "tokenize", 52,
    "Print the token ids of TEXT under a model's tokenizer, as the engine encodes prompts: "
    "control tokens written in the text (<s>, <|im_start|>, ...) become their ids, and BOS "
    "comes first unless --no-bos",
    add_tokenize_flags, tokenize};

}  // namespace
}  // namespace bricks::cli
