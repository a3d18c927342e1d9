// JSON manifests. JsonStringToMessage reports neither places nor more than one problem, so a
// small scanner walks the text first: it checks the syntax, records where every field is
// and reports every unknown field; then the protobuf parser converts the values.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>

#include "parse_formats.h"

namespace bricks::manifest {
namespace {

namespace pb = google::protobuf;

class JsonScanner {
 public:
  JsonScanner(const std::string& text, const std::string& file, ManifestLocations& locations,
              std::vector<Diagnostic>& diags)
      : text_(text), file_(file), locations_(locations), diags_(diags) {}

  // False after a syntax error (reported).
  bool scan(const pb::Descriptor* root) {
    skip_space();
    if (!message(root, "")) return false;
    skip_space();
    if (pos_ < text_.size()) return fail("unexpected text after the manifest's closing '}'");
    return true;
  }

 private:
  Location here() const { return {line_, col_}; }

  bool fail(const std::string& what, const std::string& fix =
                                         "check the JSON syntax: \"name\": value pairs "
                                         "separated by commas, inside { }") {
    diags_.push_back({file_, line_, col_, true, "syntax error: " + what, fix});
    return false;
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

  bool string(std::string* out) {
    if (peek() != '"') return fail("expected a string in double quotes");
    advance();
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\n')
        return fail("line break inside a string", "close the string with '\"'");
      if (text_[pos_] == '\\') {
        advance();
        if (pos_ >= text_.size()) break;
        const char e = text_[pos_];
        if (out != nullptr) *out += (e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else if (out != nullptr) {
        *out += text_[pos_];
      }
      advance();
    }
    if (pos_ >= text_.size()) return fail("the string is not closed", "close it with '\"'");
    advance();
    return true;
  }

  bool literal() {
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
    return true;
  }

  // Any value whose fields are not tracked (scalars, and the values of unknown fields).
  bool any_value() {
    skip_space();
    if (peek() == '{') return object([&](const std::string&, Location) { return any_value(); });
    if (peek() == '[') return array([&](int, Location) { return any_value(); });
    if (peek() == '"') return string(nullptr);
    return literal();
  }

  template <typename OnMember>
  bool object(OnMember on_member) {
    if (!expect('{')) return false;
    skip_space();
    if (peek() == '}') {
      advance();
      return true;
    }
    for (;;) {
      skip_space();
      const Location at = here();
      std::string key;
      if (!string(&key) || !expect(':')) return false;
      if (!on_member(key, at)) return false;
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      return expect('}');
    }
  }

  template <typename OnElement>
  bool array(OnElement on_element) {
    if (!expect('[')) return false;
    skip_space();
    if (peek() == ']') {
      advance();
      return true;
    }
    for (int i = 0;; ++i) {
      skip_space();
      if (!on_element(i, here())) return false;
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      return expect(']');
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
    return object([&](const std::string& key, Location at) {
      const pb::FieldDescriptor* field = find_field(type, key);
      if (field == nullptr) {
        diags_.push_back(unknown_field(file_, at.line, at.col, type, key));
        return any_value();
      }
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
      return object([&](const std::string& key, Location at) {
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
