// The two file formats a manifest may be written in. Internal to bricks_manifest.
#pragma once

#include <string>
#include <vector>

#include "diagnostic.h"
#include "locations.h"
#include "manifest.pb.h"

namespace bricks::manifest {

// Parses protobuf text format. Unknown fields are reported as errors (with a did-you-mean)
// and skipped, so every one of them is found; a syntax or type error ends the parse.
// Returns false when the text could not be parsed (diags say where and why).
bool parse_text_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags);

// Parses proto3 JSON. Field names may be written as in the schema or in lowerCamelCase.
// Unknown fields are reported as errors and skipped; a syntax error or a value of the wrong
// type ends the parse. Returns false when the text could not be parsed.
bool parse_json_manifest(const std::string& text, const std::string& file, Manifest& out,
                         ManifestLocations& locations, std::vector<Diagnostic>& diags);

// The error for a field name that the message type `type` does not have.
Diagnostic unknown_field(const std::string& file, int line, int col,
                         const google::protobuf::Descriptor* type, const std::string& name);

}  // namespace bricks::manifest
