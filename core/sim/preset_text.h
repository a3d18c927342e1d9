// Text-format preset files (core/proto/sim_presets.proto): parsing with the place of every
// field kept, so that each problem is reported once as "<file>:<line>: <what>; <fix>".
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <string>

namespace bricks::sim {

// The text of `file`; throws SimError naming the file when it cannot be read.
std::string read_preset_file(const std::filesystem::path& file);

// A preset's text and the name its errors give it.
struct PresetSource {
  std::string text;
  std::string file;  // "<shipped gpus/a100-80gb.textproto>" or the path read
};

// The preset `name_or_path`: the shipped preset of `kind` ("gpus", "ssds", "models", "costs") of
// that name, else the file at that path (a relative one against `base`). Throws SimError naming
// `what` ("GPU preset") and the shipped names when it is neither, or when the file cannot
// be read.
PresetSource find_preset(const char* kind, const std::string& name_or_path,
                         const std::filesystem::path& base, const std::string& what);

// The names of the shipped presets of `kind`, comma-separated.
std::string shipped_names(const char* kind);

// One parsed preset file. Not copyable: it refers to the message it filled.
class PresetText {
 public:
  // Parses `text` into `out` (cleared first). `file` names the text in errors; `kind` says
  // what it holds ("GPU preset"). Throws SimError on the first syntax error or unknown field,
  // naming its line and the fields the message has.
  PresetText(const std::string& text, std::string file, std::string kind,
             google::protobuf::Message& out);
  PresetText(const PresetText&) = delete;
  PresetText& operator=(const PresetText&) = delete;

  // The 1-based line of `field` in the file; 1 when it is not written there.
  int line(const std::string& field) const;
  // Throws SimError "<file>:<line of field>: <kind> field <field>: <what>; <fix>".
  [[noreturn]] void fail(const std::string& field, const std::string& what,
                         const std::string& fix) const;
  // Fails naming the file's first line when `field` is not written in the file.
  void require(const std::string& field, const std::string& fix) const;
  // Fails naming `field` when `value` (the number it holds) is not above 0.
  void positive(const std::string& field, double value, const std::string& fix) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_, kind_;
  const google::protobuf::Message& msg_;
  google::protobuf::TextFormat::ParseInfoTree tree_;
};

}  // namespace bricks::sim
