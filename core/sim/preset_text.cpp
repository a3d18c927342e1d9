#include "sim/preset_text.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/preset_names.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

namespace pb = google::protobuf;

std::string field_names(const pb::Descriptor* d) {
  std::string out;
  for (int i = 0; i < d->field_count(); ++i) out += (i ? ", " : "") + d->field(i)->name();
  return out;
}

// Keeps the parser's first error; the parser reports unknown fields as errors too.
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber /*col*/, const std::string& message) override {
    if (!message_.empty()) return;
    line_ = line + 1;
    message_ = message;
    if (!message_.empty() && message_.back() == '.') message_.pop_back();
  }
  void AddWarning(int line, pb::io::ColumnNumber col, const std::string& message) override {
    AddError(line, col, message);
  }
  int line_ = 0;
  std::string message_;
};

}  // namespace

std::string read_preset_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw SimError(file.string() +
                   ": cannot read the preset file; check the path (relative "
                   "to the manifest) and its permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string shipped_names(const char* kind) {
  std::string out;
  const std::string_view k = kind;
  if (k == "gpus" || k == "models" || k == "ssds") {
    const std::span<const std::string_view> names =
        k == "gpus"   ? std::span<const std::string_view>(kGpuPresetNames)
        : k == "ssds" ? std::span<const std::string_view>(kSsdPresetNames)
                      : std::span<const std::string_view>(kModelPresetNames);
    for (std::string_view n : names) {
      out += (out.empty() ? "" : ", ") + std::string(n);
    }
    return out;
  }
  for (const ShippedPreset& p : shipped_presets()) {
    if (p.kind == kind) out += (out.empty() ? "" : ", ") + std::string(p.name);
  }
  return out;
}

PresetSource find_preset(const char* kind, const std::string& name_or_path,
                         const std::filesystem::path& base, const std::string& what) {
  if (const ShippedPreset* p = find_shipped_preset(kind, name_or_path)) {
    return {std::string(p->text), "<shipped " + std::string(p->path) + ">"};
  }
  const std::filesystem::path path = base / name_or_path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && name_or_path.find('/') == std::string::npos &&
      !name_or_path.ends_with(".textproto")) {
    throw SimError("unknown " + what + " '" + name_or_path + "'; use one of " +
                   shipped_names(kind) + ", or the path of a .textproto file (relative to " +
                   "the manifest)");
  }
  return {read_preset_file(path), path.string()};
}

PresetText::PresetText(const std::string& text, std::string file, std::string kind,
                       pb::Message& out)
    : file_(std::move(file)), kind_(std::move(kind)), msg_(out) {
  out.Clear();
  FirstError errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree_);
  if (parser.ParseFromString(text, &out)) return;
  const std::string unknown = "has no field named \"";
  const size_t at = errors.message_.find(unknown);
  std::string what = errors.message_, fix;
  if (at != std::string::npos) {
    const std::string field = errors.message_.substr(at + unknown.size());
    what = "unknown field '" + field.substr(0, field.find('"')) + "' in a " + kind_;
    fix = "remove it; the fields are " + field_names(out.GetDescriptor()) +
          " (core/proto/sim_presets.proto)";
  } else {
    fix = "write fields as `name: value`, strings in double quotes, # for comments";
  }
  throw SimError(file_ + ":" + std::to_string(errors.line_) + ": " + what + "; " + fix);
}

int PresetText::line(const std::string& field) const {
  const pb::FieldDescriptor* f = msg_.GetDescriptor()->FindFieldByName(field);
  if (f == nullptr) return 1;
  const pb::TextFormat::ParseLocation loc = tree_.GetLocation(f, f->is_repeated() ? 0 : -1);
  return loc.line >= 0 ? loc.line + 1 : 1;
}

void PresetText::fail(const std::string& field, const std::string& what,
                      const std::string& fix) const {
  throw SimError(file_ + ":" + std::to_string(line(field)) + ": " + kind_ + " field " + field +
                 ": " + what + "; " + fix);
}

void PresetText::require(const std::string& field, const std::string& fix) const {
  const pb::FieldDescriptor* f = msg_.GetDescriptor()->FindFieldByName(field);
  const pb::TextFormat::ParseLocation loc = tree_.GetLocation(f, -1);
  if (loc.line < 0) fail(field, "missing, and it has no default", fix);
}

void PresetText::positive(const std::string& field, double value, const std::string& fix) const {
  if (value > 0) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", value);
  fail(field, std::string(buf) + " is out of range: it must be above 0", fix);
}

}  // namespace bricks::sim
