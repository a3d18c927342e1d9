// What every value of a manifest must be, whatever field it is in: numbers finite, strings
// UTF-8. One walk over the message by reflection, so a field added to the schema is checked
// without anyone remembering to. Range checks elsewhere compare with `<`, which NaN passes;
// this is where NaN and infinity stop.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cmath>
#include <cstdio>

#include "utf8.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

namespace pb = google::protobuf;

class ValueWalk {
 public:
  ValueWalk(const LoadedManifest& m, std::vector<Diagnostic>& diags) : m_(m), diags_(diags) {}

  void message(const pb::Message& msg, const std::string& prefix) {
    const pb::Reflection* refl = msg.GetReflection();
    std::vector<const pb::FieldDescriptor*> set;
    refl->ListFields(msg, &set);
    for (const pb::FieldDescriptor* field : set) {
      const std::string path = prefix + field->name();
      if (!field->is_repeated()) {
        scalar_or_message(msg, field, -1, path);
        continue;
      }
      for (int i = 0, n = refl->FieldSize(msg, field); i < n; ++i) {
        scalar_or_message(msg, field, i, path + "[" + element_name(msg, field, i) + "]");
      }
    }
  }

 private:
  // A map entry is named by its key, as locations.h names it; other elements by index.
  static std::string element_name(const pb::Message& msg, const pb::FieldDescriptor* field, int i) {
    if (!field->is_map()) return std::to_string(i);
    const pb::Message& entry = msg.GetReflection()->GetRepeatedMessage(msg, field, i);
    const pb::FieldDescriptor* key = entry.GetDescriptor()->map_key();
    if (key->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return std::to_string(i);
    return entry.GetReflection()->GetString(entry, key);
  }

  // Element `i` of a repeated field, or the field itself when `i` is -1.
  void scalar_or_message(const pb::Message& msg, const pb::FieldDescriptor* field, int i,
                         const std::string& path) {
    const pb::Reflection* refl = msg.GetReflection();
    const bool one = i < 0;
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        finite(path, one ? refl->GetDouble(msg, field) : refl->GetRepeatedDouble(msg, field, i));
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        finite(path, one ? refl->GetFloat(msg, field) : refl->GetRepeatedFloat(msg, field, i));
        break;
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = one ? refl->GetStringReference(msg, field, &scratch)
                                   : refl->GetRepeatedStringReference(msg, field, i, &scratch);
        utf8(path, s);
        break;
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        message(one ? refl->GetMessage(msg, field) : refl->GetRepeatedMessage(msg, field, i),
                path + ".");
        break;
      default:
        break;
    }
  }

  void finite(const std::string& path, double v) {
    if (std::isfinite(v)) return;
    const char* what = std::isnan(v) ? "NaN" : v > 0 ? "infinity" : "-infinity";
    diags_.push_back(
        m_.at(path, path + " is " + what + ", not a finite number", "give a finite number"));
  }

  void utf8(const std::string& path, const std::string& s) {
    const size_t bad = first_invalid_utf8(s);
    if (bad == std::string::npos) return;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(s[bad]));
    // A map entry is named by its key, which may be the bad string itself: then name the
    // map, without printing the bytes.
    const size_t in_path = first_invalid_utf8(path);
    const std::string what =
        in_path == std::string::npos
            ? path + " is not valid UTF-8"
            : "a key of " + path.substr(0, path.rfind('[', in_path)) + " is not valid UTF-8";
    diags_.push_back(
        m_.at(path, what + " (byte " + byte + " at offset " + std::to_string(bad) + ")", kUtf8Fix));
  }

  const LoadedManifest& m_;
  std::vector<Diagnostic>& diags_;
};

}  // namespace

void check_values(const LoadedManifest& m, std::vector<Diagnostic>& diags) {
  ValueWalk(m, diags).message(m.proto, "");
}

}  // namespace bricks::manifest
