// Text-format manifests: TextFormat::Parser with unknown fields turned into diagnostics and
// every field's place recorded for the semantic checks.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "host/did_you_mean.h"
#include "parse_formats.h"

namespace bricks::manifest {
namespace {

namespace pb = google::protobuf;

// The hint that goes with a syntax error from the text-format parser.
std::string syntax_fix(const std::string& message) {
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  if (has("specified multiple times")) return "set this field once, or remove the earlier line";
  if (has("another member of oneof")) {
    return "a param value sets exactly one of int, float, bool, string";
  }
  if (has("Expected integer") || has("Expected double") || has("Expected string") ||
      has("Expected identifier, got: \"") || has("Invalid value")) {
    return "the value does not have the field's type; see core/proto/manifest.proto";
  }
  if (has("end of input") || has("end of stream")) return "close every '{' with a '}'";
  if (has("Expected \":\"")) {
    return "put ':' between a field's name and its value, as in `kind: \"cpu\"`";
  }
  return "fields are written `name: value` or `name { ... }`, strings in double quotes";
}

class CollectDiagnostics : public pb::io::ErrorCollector {
 public:
  CollectDiagnostics(const std::string& file, const std::string& text,
                     std::vector<Diagnostic>& diags)
      : file_(file), text_(text), diags_(diags) {}

  void AddError(int line, pb::io::ColumnNumber col, const std::string& message) override {
    std::string what = message;
    if (!what.empty() && what.back() == '.') what.pop_back();
    diags_.push_back(
        {file_, line + 1, col + 1, true, "syntax error: " + what, syntax_fix(message)});
  }

  // The parser warns about unknown fields as `Message type "T" has no field named "f".`
  void AddWarning(int line, pb::io::ColumnNumber col, const std::string& message) override {
    const std::string head = "Message type \"", mid = "\" has no field named \"";
    const size_t type_end = message.find(mid);
    if (message.rfind(head, 0) == 0 && type_end != std::string::npos) {
      const std::string type_name = message.substr(head.size(), type_end - head.size());
      std::string field = message.substr(type_end + mid.size());
      field = field.substr(0, field.find('"'));
      const pb::Descriptor* type =
          pb::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
      if (type != nullptr) {
        diags_.push_back(
            unknown_field(file_, line + 1, name_column(line, col, field) + 1, type, field));
        return;
      }
    }
    diags_.push_back({file_, line + 1, col + 1, false, message, ""});
  }

 private:
  // The parser reports an unknown field at the token after its name; the name itself is
  // the last occurrence of it before that column on the same line (0-based, as given).
  int name_column(int line, int col, const std::string& name) const {
    size_t start = 0;
    for (int l = 0; l < line && start != std::string::npos; ++l) {
      start = text_.find('\n', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos || name.empty()) return col;
    const std::string_view row = std::string_view(text_).substr(
        start, std::min<size_t>(static_cast<size_t>(col), text_.size() - start));
    const size_t at = row.rfind(name);
    return at == std::string_view::npos ? col : static_cast<int>(at);
  }

  const std::string& file_;
  const std::string& text_;
  std::vector<Diagnostic>& diags_;
};

// The first '{', '<' or '[' that opens a level deeper than kMaxNesting, outside strings and
// comments; false when there is none. The parser recurses once per level, inside unknown
// fields too, so a hostile file could otherwise exhaust the stack before any limit of the
// parser's own applies.
bool too_deep(const std::string& text, Location& at) {
  int depth = 0, line = 1, col = 1;
  char quote = 0;  // the open string's quote character
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i, ++col) {
    const char ch = text[i];
    if (ch == '\n') {
      ++line;
      col = 0;
      comment = false;
      quote = 0;  // the tokenizer ends a string at the line break and reports it
      continue;
    }
    if (comment) continue;
    if (quote != 0) {
      if (ch == '\\') {
        ++i;
        ++col;
      } else if (ch == quote) {
        quote = 0;
      }
      continue;
    }
    if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '#') {
      comment = true;
    } else if (ch == '{' || ch == '<' || ch == '[') {
      if (++depth > kMaxNesting) {
        at = {line, col};
        return true;
      }
    } else if ((ch == '}' || ch == '>' || ch == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// The place of a field as the parser records it, 1-based.
Location place(const pb::TextFormat::ParseInfoTree& tree, const pb::FieldDescriptor* field,
               int index) {
  const pb::TextFormat::ParseLocation loc = tree.GetLocation(field, index);
  return {loc.line + 1, loc.column + 1};
}

std::string map_key(const pb::Message& entry) {
  const pb::FieldDescriptor* key = entry.GetDescriptor()->map_key();
  return entry.GetReflection()->GetString(entry, key);
}

// Where a map's keys were first written, to report a key given twice.
using FirstKeys = std::map<std::string, Location>;

// Walks the parsed message and its parse tree together, and reports each map key written a
// second time at that place (the parser keeps the last silently). Must run before the
// message's map fields are read through the generated API: until then reflection sees map
// entries in the order they were parsed, which is the order the tree's indices follow.
void collect(const pb::Message& msg, const pb::TextFormat::ParseInfoTree& tree,
             const std::string& prefix, const std::string& file, ManifestLocations& out,
             std::vector<Diagnostic>& diags) {
  const pb::Descriptor* type = msg.GetDescriptor();
  const pb::Reflection* refl = msg.GetReflection();
  for (int f = 0; f < type->field_count(); ++f) {
    const pb::FieldDescriptor* field = type->field(f);
    const bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    if (!field->is_repeated()) {
      const Location loc = place(tree, field, -1);
      if (loc.line <= 0) continue;
      const std::string path = prefix + field->name();
      out.add(path, loc);
      const pb::TextFormat::ParseInfoTree* nested = tree.GetTreeForNested(field, -1);
      if (is_message && nested != nullptr) {
        collect(refl->GetMessage(msg, field), *nested, path + ".", file, out, diags);
      }
      continue;
    }
    const int n = refl->FieldSize(msg, field);
    FirstKeys first;
    for (int i = 0; i < n; ++i) {
      const Location loc = place(tree, field, i);
      if (loc.line <= 0) continue;
      std::string path = prefix + field->name() + "[";
      if (field->is_map()) {
        const std::string key = map_key(refl->GetRepeatedMessage(msg, field, i));
        const auto [earlier, fresh] = first.emplace(key, loc);
        if (!fresh) {
          diags.push_back(duplicate_key(file, loc, key, earlier->second));
        }
        path += key + "]";
      } else {
        path += std::to_string(i) + "]";
      }
      out.add(path, loc);
      const pb::TextFormat::ParseInfoTree* nested = tree.GetTreeForNested(field, i);
      if (is_message && nested != nullptr) {
        collect(refl->GetRepeatedMessage(msg, field, i), *nested, path + ".", file, out, diags);
      }
    }
  }
}

}  // namespace

Diagnostic unknown_field(const std::string& file, int line, int col, const pb::Descriptor* type,
                         const std::string& name) {
  std::vector<std::string> names;
  for (int f = 0; f < type->field_count(); ++f) names.push_back(type->field(f)->name());
  return {file,
          line,
          col,
          true,
          "unknown field '" + name + "' in " + type->name(),
          host::suggest(name, names)};
}

Diagnostic too_deep_error(const std::string& file, Location at) {
  return {file,
          at.line,
          at.col,
          true,
          "syntax error: nesting deeper than " + std::to_string(kMaxNesting) + " levels",
          "a manifest nests a few levels; look for a repeated or unclosed bracket"};
}

Diagnostic duplicate_key(const std::string& file, Location at, const std::string& key,
                         Location first, const std::string& field) {
  const std::string where =
      "first given at " + std::to_string(first.line) + ":" + std::to_string(first.col);
  return {file,
          at.line,
          at.col,
          true,
          "duplicate key '" + key + "' (" + (field.empty() ? "" : "field '" + field + "', ") +
              where + ")",
          "give each key once"};
}

bool parse_text_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags) {
  Location deep;
  if (too_deep(text, deep)) {
    diags.push_back(too_deep_error(file, deep));
    return false;
  }
  CollectDiagnostics collector(file, text, diags);
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.AllowUnknownField(true);
  parser.SetRecursionLimit(kMaxNesting);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &out)) return false;
  const int errors_before = count_errors(diags);
  collect(out, tree, "", file, locations, diags);
  // A key given twice is refused rather than resolved: which copy wins is not what the
  // writer can see.
  return count_errors(diags) == errors_before;
}

}  // namespace bricks::manifest
