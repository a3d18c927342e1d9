// manifest_doc: writes docs/manifest.md from the comments of core/proto/manifest.proto, so
// the manifest reference cannot drift from the schema.
//
//   manifest_doc DESCRIPTOR_SET --out FILE        write the reference
//   manifest_doc DESCRIPTOR_SET --check FILE      exit 1 when FILE differs from it
//
// DESCRIPTOR_SET is what `protoc --include_source_info --descriptor_set_out` writes for
// manifest.proto: reading it needs only libprotobuf (its descriptors keep the comments),
// not the compiler library. Output is deterministic: messages and fields in file order.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace pb = google::protobuf;

// Comment text as one line: lines joined by spaces, runs of blanks collapsed.
std::string one_line(const std::string& comment) {
  std::string out;
  bool blank = true;
  for (char c : comment) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!blank) out += ' ';
      blank = true;
    } else {
      out += c;
      blank = false;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Comment text as a Markdown paragraph, keeping its sentences but not its line breaks.
std::string paragraph(const std::string& comment) { return one_line(comment); }

// A table cell: pipes would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// A field's comment: the one above it, then the one beside it.
std::string field_comment(const pb::FieldDescriptor& f) {
  pb::SourceLocation loc;
  if (!f.GetSourceLocation(&loc)) return "";
  std::string text = one_line(loc.leading_comments);
  const std::string trailing = one_line(loc.trailing_comments);
  if (!trailing.empty()) text += (text.empty() ? "" : " ") + trailing;
  return text;
}

// Fields declared under one comment ("sim only: GPU preset and model preset") share it:
// an uncommented field takes the comment of the nearest commented field above it whose
// comment ends on the line just before, as a group reads in the .proto.
std::vector<std::string> field_comments(const pb::Descriptor& m) {
  std::vector<std::string> out;
  int last_line = -2;
  std::string last;
  for (int i = 0; i < m.field_count(); ++i) {
    const pb::FieldDescriptor& f = *m.field(i);
    std::string text = field_comment(f);
    pb::SourceLocation loc;
    const int line = f.GetSourceLocation(&loc) ? loc.start_line : -10;
    if (text.empty() && line == last_line + 1) {
      text = last;
    } else if (!text.empty()) {
      last = text;
    }
    if (!text.empty()) last_line = line;
    out.push_back(text);
  }
  return out;
}

std::string anchor(const pb::Descriptor& m) {
  std::string out;
  for (char c : m.name()) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string type_text(const pb::FieldDescriptor& f) {
  if (f.is_map()) {
    const pb::FieldDescriptor& value = *f.message_type()->map_value();
    std::string v = value.message_type() != nullptr ? "[" + value.message_type()->name() + "](#" +
                                                          anchor(*value.message_type()) + ")"
                                                    : std::string(value.type_name());
    return "map&lt;" + std::string(f.message_type()->map_key()->type_name()) + ", " + v + "&gt;";
  }
  std::string t = f.message_type() != nullptr
                      ? "[" + f.message_type()->name() + "](#" + anchor(*f.message_type()) + ")"
                      : std::string(f.type_name());
  if (f.is_repeated()) t = "repeated " + t;
  if (const pb::OneofDescriptor* o = f.real_containing_oneof()) {
    t += " (one of `" + o->name() + "`)";
  }
  return t;
}

// proto3 has no declared defaults: an unset field reads as its type's zero, and the
// comments say what that zero means ("0 = all cores").
std::string zero_text(const pb::FieldDescriptor& f) {
  if (f.is_repeated()) return "empty";
  if (f.message_type() != nullptr || f.real_containing_oneof() != nullptr) return "unset";
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return "`false`";
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return "`\"\"`";
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return "`" + f.enum_type()->value(0)->name() + "`";
    default:
      return "`0`";
  }
}

std::string default_text(const pb::FieldDescriptor& f, const std::string& comment) {
  const std::string zero = zero_text(f);
  // A oneof member has no value of its own to explain.
  if (f.real_containing_oneof() != nullptr) return zero;
  // "0 = X", "0 or 1 = X", "unset: X", "empty: X", then "(default X)", "default: X". X runs
  // to the end of its clause: a ';', ')' or '.' that is not a decimal point, keeping
  // parenthesised asides whole.
  static const std::string clause = R"(((?:[^;().]|\.\d|\([^)]*\))+))";
  static const std::regex means(R"((?:\b0|\bunset|\b[Ee]mpty)(?: or \w+)? ?[=:] ?)" + clause);
  static const std::regex stated(R"(\bdefault:? )" + clause);
  std::smatch m;
  if (std::regex_search(comment, m, means) || std::regex_search(comment, m, stated)) {
    std::string what = one_line(m[1]);
    while (!what.empty() && (what.back() == ',' || what.back() == ' ')) what.pop_back();
    return zero + ": " + what;
  }
  return zero;
}

// The range a comment states, in the comment's own notation: "in (0, 1]", "50..100",
// "(>= 1)", "(> median)"; "" when it states none.
std::string range_text(const std::string& comment) {
  static const std::regex interval(R"(\bin ([\[(][^\])]*[\])]))");
  static const std::regex dots(R"(\b(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)\b)");
  static const std::regex bound(R"(\((>=? ?[\w.]+)\))");
  std::smatch m;
  if (std::regex_search(comment, m, interval)) return m[1];
  if (std::regex_search(comment, m, dots)) return std::string(m[1]) + ".." + std::string(m[2]);
  if (std::regex_search(comment, m, bound)) return m[1];
  return "";
}

void render_message(const pb::Descriptor& m, std::ostream& out) {
  out << "\n## " << m.name() << "\n\n";
  pb::SourceLocation loc;
  if (m.GetSourceLocation(&loc) && !one_line(loc.leading_comments).empty()) {
    out << paragraph(loc.leading_comments) << "\n\n";
  }
  out << "| Field | Type | Default | Range | Meaning |\n";
  out << "|---|---|---|---|---|\n";
  const std::vector<std::string> comments = field_comments(m);
  for (int i = 0; i < m.field_count(); ++i) {
    const pb::FieldDescriptor& f = *m.field(i);
    const std::string& comment = comments[static_cast<size_t>(i)];
    out << "| `" << f.name() << "` | " << cell(type_text(f)) << " | "
        << cell(default_text(f, comment)) << " | " << cell(range_text(comment)) << " | "
        << cell(comment) << " |\n";
  }
}

std::string render(const pb::FileDescriptor& file) {
  std::ostringstream out;
  out << "<!-- Generated from core/proto/" << file.name()
      << " by tools/manifest_doc; do not edit. Regenerate with: cmake --build build --target "
         "manifest_md -->\n";
  out << "# Manifest reference\n\n";
  // The file's opening comment sits above `syntax`, the file's field 12.
  pb::FileDescriptorProto proto;
  file.CopySourceCodeInfoTo(&proto);
  for (const auto& loc : proto.source_code_info().location()) {
    if (loc.path_size() == 1 && loc.path(0) == pb::FileDescriptorProto::kSyntaxFieldNumber) {
      for (const std::string& detached : loc.leading_detached_comments()) {
        out << paragraph(detached) << "\n\n";
      }
      if (!loc.leading_comments().empty()) out << paragraph(loc.leading_comments()) << "\n\n";
    }
  }
  out << "Every message of the schema follows, in the order the .proto declares them. Types are "
         "protobuf's; proto3 fields have no declared defaults, so the Default column gives the "
         "value an unset field reads as and, where the comment says, what that value means. "
         "Range is given where the comment states one.\n";
  out << "\nMessages:";
  for (int i = 0; i < file.message_type_count(); ++i) {
    const pb::Descriptor& m = *file.message_type(i);
    out << (i == 0 ? " " : ", ") << "[" << m.name() << "](#" << anchor(m) << ")";
  }
  out << ".\n";
  for (int i = 0; i < file.message_type_count(); ++i) render_message(*file.message_type(i), out);
  return out.str();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int usage() {
  std::fprintf(stderr,
               "usage: manifest_doc DESCRIPTOR_SET (--out FILE | --check FILE) "
               "[--regenerate COMMAND]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  const std::string descriptors = argv[1];
  const std::string mode = argv[2];
  const std::string target = argv[3];
  std::string regenerate = "cmake --build build --target manifest_md";
  if (argc == 6 && std::string(argv[4]) == "--regenerate") {
    regenerate = argv[5];
  } else if (argc != 4) {
    return usage();
  }
  if (mode != "--out" && mode != "--check") return usage();

  pb::FileDescriptorSet set;
  std::ifstream in(descriptors, std::ios::binary);
  if (!in || !set.ParseFromIstream(&in)) {
    std::fprintf(stderr, "manifest_doc: cannot read descriptor set %s\n", descriptors.c_str());
    return 3;
  }
  pb::DescriptorPool pool;
  const pb::FileDescriptor* file = nullptr;
  for (const pb::FileDescriptorProto& proto : set.file()) file = pool.BuildFile(proto);
  if (file == nullptr) {
    std::fprintf(stderr, "manifest_doc: %s holds no usable .proto\n", descriptors.c_str());
    return 3;
  }
  const std::string text = render(*file);

  if (mode == "--check") {
    if (slurp(target) == text) return 0;
    std::fprintf(stderr, "%s is not what core/proto/%s generates; regenerate it with:\n  %s\n",
                 target.c_str(), file->name().c_str(), regenerate.c_str());
    return 1;
  }
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    std::fprintf(stderr, "manifest_doc: cannot write %s\n", target.c_str());
    return 3;
  }
  return 0;
}
