// The two file formats a manifest may be written in. Internal to bricks_manifest.
#pragma once

#include <string>
#include <vector>

#include "diagnostic.h"
#include "locations.h"
#include "manifest.pb.h"

namespace bricks::manifest {

// How deeply brackets may nest in a manifest. Real manifests nest four or five levels; the
// limit keeps the parsers' recursion far from the stack's end on hostile input.
inline constexpr int kMaxNesting = 100;

// Parses protobuf text format. Unknown fields are reported as errors (with a did-you-mean)
// and skipped, so every one of them is found; a syntax or type error, or nesting deeper than
// kMaxNesting, ends the parse; a map key given twice fails it once every one is reported.
// Returns false when the text could not be parsed (diags say where and why).
bool parse_text_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags);

// Parses proto3 JSON (RFC 8259: strings in UTF-8, numbers finite and written in decimal). Field
// names may be written as in the schema or in lowerCamelCase. Unknown fields are reported as errors
// and skipped; a syntax error or a value of the wrong type ends the parse; a key given twice in one
// object fails it once every one is reported. Returns false when the text could not be parsed.
bool parse_json_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags);

// The error for brackets opened deeper than kMaxNesting at `at`.
Diagnostic too_deep_error(const std::string& file, Location at);

// The error for a key given a second time at `at`, first given at `first`; `field` names
// the field when `key` is another of its names (JSON's lowerCamelCase).
Diagnostic duplicate_key(const std::string& file, Location at, const std::string& key,
                         Location first, const std::string& field = "");

// The error for a field name that the message type `type` does not have.
Diagnostic unknown_field(const std::string& file, int line, int col,
                         const google::protobuf::Descriptor* type, const std::string& name);

}  // namespace bricks::manifest
