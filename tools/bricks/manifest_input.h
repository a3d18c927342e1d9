// The manifest a command was given: loaded and parsed, its diagnostics (errors and
// warnings, each with file:line:col and the fix) printed to stderr.
#pragma once

#include <optional>
#include <string>

#include "manifest/manifest.h"

namespace bricks::cli {

// nullopt when the file cannot be read or parsed (the command then exits kExitInputError).
std::optional<manifest::LoadedManifest> load_manifest_reporting(const std::string& file);

}  // namespace bricks::cli
