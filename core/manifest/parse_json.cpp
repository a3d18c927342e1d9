// JSON manifests. JsonStringToMessage reports neither places nor more than one problem, so a
// small scanner walks the text first: it checks the syntax, records where every field is
// and reports every unknown field; then the protobuf parser converts the values.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "bricks/model/utf8.h"
#include "parse_formats.h"
#include "utf8.h"

namespace bricks::manifest {
namespace {

namespace pb = google::protobuf;

class JsonScanner {
 public:
  JsonScanner(const std::string& text, const std::string& file, ManifestLocations& locations,
              std::vector<Diagnostic>& diags)
      : text_(text), file_(file), locations_(locations), diags_(diags) {}

  // False after a syntax error, or once the whole text is scanned when a key was given
  // twice (each reported).
  bool scan(const pb::Descriptor* root) {
    skip_space();
    if (!message(root, "")) return false;
    skip_space();
    if (pos_ < text_.size()) return fail("unexpected text after the manifest's closing '}'");
    return !duplicates_;
  }

 private:
  // Keys of one object and where each was first written.
  using FirstKeys = std::map<std::string, Location>;

  // Counts a level of nesting for as long as it lives.
  struct Level {
    explicit Level(int& depth) : depth_(++depth) {}
    ~Level() { --depth_; }
    int& depth_;
  };

  Location here() const { return {line_, col_}; }

  static constexpr const char* kSyntaxFix =
      "check the JSON syntax: \"name\": value pairs separated by commas, inside { }";

  bool fail(const std::string& what, const std::string& fix = kSyntaxFix) {
    return fail_at(here(), what, fix);
  }

  bool fail_at(Location at, const std::string& what, const std::string& fix = kSyntaxFix) {
    diags_.push_back({file_, at.line, at.col, true, "syntax error: " + what, fix});
    return false;
  }

  // Whether `key` is new in `seen`; else reports `written` (the key as written, when it is
  // another name of the same field) at `at` and remembers the failure. The scan goes on, so
  // every repeated key is reported.
  bool first_time(FirstKeys& seen, const std::string& key, Location at,
                  const std::string& written = "") {
    const auto [earlier, fresh] = seen.emplace(key, at);
    if (!fresh) {
      const bool alias = !written.empty() && written != key;
      diags_.push_back(
          duplicate_key(file_, at, alias ? written : key, earlier->second, alias ? key : ""));
      duplicates_ = true;
    }
    return fresh;
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      advance();
    }
  }

  bool expect(char c) {
    skip_space();
    if (peek() != c) {
      std::string got = pos_ < text_.size() ? std::string("'") + peek() + "'" : "end of file";
      return fail(std::string("expected '") + c + "', found " + got);
    }
    advance();
    return true;
  }

  // A string in double quotes: valid UTF-8, no raw control characters, only JSON's
  // escapes. `out` (may be null) receives the decoded text.
  bool string(std::string* out) {
    if (peek() != '"') return fail("expected a string in double quotes");
    advance();
    while (pos_ < text_.size() && text_[pos_] != '"') {
      const unsigned char ch = static_cast<unsigned char>(text_[pos_]);
      if (ch == '\n') return fail("line break inside a string", "close the string with '\"'");
      if (ch < 0x20) {
        return fail("control character inside a string", "write it as an escape, e.g. \\t");
      }
      if (ch == '\\') {
        if (!escape(out)) return false;
        continue;
      }
      if (ch >= 0x80) {
        const size_t n = utf8_sequence_length(std::string_view(text_).substr(pos_));
        if (n == 0) return fail("invalid UTF-8 in a string", kUtf8Fix);
        if (out != nullptr) out->append(text_, pos_, n);
        for (size_t i = 0; i < n; ++i) advance();
        continue;
      }
      if (out != nullptr) *out += text_[pos_];
      advance();
    }
    if (pos_ >= text_.size()) return fail("the string is not closed", "close it with '\"'");
    advance();
    return true;
  }

  // One escape, at the backslash. \u escapes must form whole code points (a surrogate pair
  // for those above U+FFFF), so the decoded text is valid UTF-8 too.
  bool escape(std::string* out) {
    const Location at = here();
    advance();
    if (pos_ >= text_.size()) return fail("the string is not closed", "close it with '\"'");
    const char e = text_[pos_];
    static const std::string_view kSimple = "\"\\/bfnrt", kMeant = "\"\\/\b\f\n\r\t";
    if (const size_t k = kSimple.find(e); k != std::string_view::npos) {
      if (out != nullptr) *out += kMeant[k];
      advance();
      return true;
    }
    if (e != 'u') {
      return fail_at(at, std::string("unknown escape '\\") + e + "' in a string",
                     "JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX");
    }
    advance();
    uint32_t cp = 0;
    if (!hex4(cp, at)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return fail_at(at, "a lone low surrogate in a \\u escape", kUtf8Fix);
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (text_.compare(pos_, 2, "\\u") != 0) {
        return fail_at(at, "a high surrogate \\u escape without its low half", kUtf8Fix);
      }
      advance();
      advance();
      if (!hex4(low, at)) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        return fail_at(at, "a high surrogate \\u escape without its low half", kUtf8Fix);
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out != nullptr) model::append_utf8(*out, cp);
    return true;
  }

  bool hex4(uint32_t& cp, Location at) {
    for (int i = 0; i < 4; ++i) {
      const char h = peek();
      if (!std::isxdigit(static_cast<unsigned char>(h))) {
        return fail_at(at, "a \\u escape needs four hex digits", "write it as \\u00e9");
      }
      cp = cp * 16 +
           static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                     ? h - '0'
                                     : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
      advance();
    }
    return true;
  }

  // true, false, null or a number as JSON writes them: decimal, finite. Protobuf's own
  // parser would reject the rest without saying where, or turn 1e400 into infinity.
  bool literal() {
    const Location at = here();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.')) {
      advance();
    }
    if (pos_ == start) {
      return fail(pos_ < text_.size() ? std::string("unexpected '") + peek() + "'"
                                      : "unexpected end of file");
    }
    const std::string word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false" || word == "null") return true;
    if (!is_json_number(word)) {
      return fail_at(at, "'" + word + "' is not a JSON value",
                     "numbers are decimal, as 12, 0.5 or 1e3 (no hex, NaN or Infinity); "
                     "true, false and null are lower case");
    }
    errno = 0;
    const double v = std::strtod(word.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(v)) {
      return fail_at(at, word + " is out of range for a number",
                     "give a value a double can hold (below 1.8e308)");
    }
    return true;
  }

  // RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  static bool is_json_number(const std::string& w) {
    size_t i = 0;
    auto digits = [&] {
      const size_t from = i;
      while (i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
      return i > from;
    };
    if (i < w.size() && w[i] == '-') ++i;
    if (i < w.size() && w[i] == '0') {
      ++i;
    } else if (!digits()) {
      return false;
    }
    if (i < w.size() && w[i] == '.') {
      ++i;
      if (!digits()) return false;
    }
    if (i < w.size() && (w[i] == 'e' || w[i] == 'E')) {
      ++i;
      if (i < w.size() && (w[i] == '+' || w[i] == '-')) ++i;
      if (!digits()) return false;
    }
    return i == w.size();
  }

  // Any value whose fields are not tracked (scalars, and the values of unknown fields).
  bool any_value() {
    skip_space();
    if (peek() == '{') {
      FirstKeys seen;
      return object([&](const std::string& key, Location at) {
        first_time(seen, key, at);
        return any_value();
      });
    }
    if (peek() == '[') return array([&](int, Location) { return any_value(); });
    if (peek() == '"') return string(nullptr);
    return literal();
  }

  template <typename OnMember>
  bool object(OnMember on_member) {
    return container('{', '}', [&](int) {
      const Location at = here();
      std::string key;
      return string(&key) && expect(':') && on_member(key, at);
    });
  }

  template <typename OnElement>
  bool array(OnElement on_element) {
    return container('[', ']', [&](int i) { return on_element(i, here()); });
  }

  // An object or array: `open`, items separated by commas (on_item(i) reads item i after the
  // space before it), `close`. False after a diagnostic, or when on_item fails.
  template <typename OnItem>
  bool container(char open, char close, OnItem on_item) {
    skip_space();
    const Level level(depth_);
    if (depth_ > kMaxNesting) {
      diags_.push_back(too_deep_error(file_, here()));
      return false;
    }
    if (!expect(open)) return false;
    skip_space();
    if (peek() == close) {
      advance();
      return true;
    }
    for (int i = 0;; ++i) {
      skip_space();
      if (!on_item(i)) return false;
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      return expect(close);
    }
  }

  static const pb::FieldDescriptor* find_field(const pb::Descriptor* type, const std::string& key) {
    for (int f = 0; f < type->field_count(); ++f) {
      const pb::FieldDescriptor* field = type->field(f);
      if (field->name() == key || field->json_name() == key) return field;
    }
    return nullptr;
  }

  bool message(const pb::Descriptor* type, const std::string& prefix) {
    skip_space();
    if (peek() != '{') return any_value();  // a type mismatch: the protobuf parser reports it
    FirstKeys seen;  // by field name, so `prompt_len_max` and `promptLenMax` are one key
    return object([&](const std::string& key, Location at) {
      const pb::FieldDescriptor* field = find_field(type, key);
      if (field == nullptr) {
        diags_.push_back(unknown_field(file_, at.line, at.col, type, key));
        return any_value();
      }
      if (!first_time(seen, field->name(), at, key)) return any_value();
      const std::string path = prefix + field->name();
      locations_.add(path, at);
      return field_value(field, path);
    });
  }

  bool field_value(const pb::FieldDescriptor* field, const std::string& path) {
    skip_space();
    const bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    if (field->is_map() && peek() == '{') {
      const pb::FieldDescriptor* value = field->message_type()->map_value();
      int index = 0;
      FirstKeys seen;
      return object([&](const std::string& key, Location at) {
        if (!first_time(seen, key, at)) return any_value();
        // The protobuf parser names map entries by position in its errors: params[0].
        locations_.add(path + "[" + std::to_string(index++) + "]", at);
        const std::string entry = path + "[" + key + "]";
        locations_.add(entry, at);
        locations_.add(entry + ".key", at);
        skip_space();
        locations_.add(entry + ".value", here());
        if (value->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          return message(value->message_type(), entry + ".value.");
        }
        return any_value();
      });
    }
    if (field->is_repeated() && peek() == '[') {
      return array([&](int i, Location at) {
        const std::string element = path + "[" + std::to_string(i) + "]";
        locations_.add(element, at);
        return is_message ? message(field->message_type(), element + ".") : any_value();
      });
    }
    if (is_message && !field->is_repeated()) return message(field->message_type(), path + ".");
    return any_value();
  }

  const std::string& text_;
  const std::string& file_;
  ManifestLocations& locations_;
  std::vector<Diagnostic>& diags_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int depth_ = 0;  // objects and arrays open at pos_
  bool duplicates_ = false;
};

}  // namespace

bool parse_json_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags) {
  JsonScanner scanner(text, file, locations, diags);
  if (!scanner.scan(Manifest::descriptor())) return false;
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // the scanner has reported each of them
  const auto status = pb::util::JsonStringToMessage(text, &out, options);
  if (!status.ok()) {
    // The message starts with the field, as "(device.threads): invalid value ..." or
    // "device: Proto field is not repeating ...": place it there when it is known.
    std::string what(status.message());
    std::string field;
    if (!what.empty() && what[0] == '(' && what.find(')') != std::string::npos) {
      field = what.substr(1, what.find(')') - 1);
      what = what.substr(what.find(')') + 1);
    } else if (what.find(": ") != std::string::npos) {
      field = what.substr(0, what.find(": "));
      what = what.substr(what.find(": "));
    }
    if (!field.empty() && locations.find(field).line > 0) {
      while (!what.empty() && (what[0] == ':' || what[0] == ' ')) what.erase(0, 1);
      if (!what.empty() && what.back() == '.') what.pop_back();
      const Location at = locations.find(field);
      diags.push_back({file, at.line, at.col, true, "invalid value for " + field + ": " + what,
                       "give it a value of the field's type in core/proto/manifest.proto "
                       "(64-bit integers may be quoted)"});
    } else {
      diags.push_back({file, 0, 0, true, "invalid value: " + std::string(status.message()),
                       "give each field a value of its type in core/proto/manifest.proto "
                       "(64-bit integers may be quoted)"});
    }
    return false;
  }
  return true;
}

}  // namespace bricks::manifest
