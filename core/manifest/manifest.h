// Loading and checking manifests: what the CLI's `validate` and the engine call.
//
// Loading parses a .textproto/.txtpb/.pbtxt (protobuf text format) or .json file and
// remembers where every field was written; validation checks the manifest against the
// plugins' declarations (bricks, params, capabilities) and itself (device, model, paths,
// workload). Both append Diagnostics and report every problem they find, not just the first.
// Functions here are thread-compatible: no shared state.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "host/catalogue.h"
#include "host/params.h"
#include "manifest.pb.h"
#include "manifest/diagnostic.h"
#include "manifest/locations.h"

namespace bricks::manifest {

struct LoadedManifest {
  Manifest proto;
  std::filesystem::path file;  // as given to load_manifest
  ManifestLocations locations;

  // The directory relative paths in the manifest are resolved against.
  std::filesystem::path base_dir() const;
  // `path` resolved against base_dir() unless absolute; empty stays empty.
  std::filesystem::path resolve(const std::string& path) const;
  // A diagnostic placed at the field `field_path` (see locations.h), or at its closest
  // written ancestor.
  Diagnostic at(std::string_view field_path, std::string message, std::string fix,
                bool error = true) const;
};

// Reads and parses `file` (format chosen by extension; anything other than .json is read
// as text format). Returns nullopt when the file cannot be read or parsed, with diags
// saying why. A manifest with unknown fields is returned (each one is an error in diags),
// so that validation can report the rest.
std::optional<LoadedManifest> load_manifest(const std::filesystem::path& file,
                                            std::vector<Diagnostic>& diags);

// Appends every problem found in `m` (checked against `catalogue`); warnings for settings
// that are ignored. Returns true when it appended no errors.
bool validate_manifest(const LoadedManifest& m, const host::Catalogue& catalogue,
                       std::vector<Diagnostic>& diags);

// The brick's params as the host's ParamMap, typed as `info` declares them where the value
// fits (an int given for a float param becomes a float, a string for an enum param an
// enum). Values that do not fit, and params `info` does not declare, keep the type they
// were written with, so host::resolve_params rejects them rather than silently using a
// default. Params left out stay out: resolve_params fills their defaults.
host::ParamMap to_param_map(const Brick& brick, const host::BrickInfo& info);

// The manifest's plugin_paths, resolved relative to its file, in order.
std::vector<std::filesystem::path> manifest_plugin_paths(const LoadedManifest& m);

// The key LoadOptions::sha256_pins gets for `pin`: a bare file name as written, a path
// resolved relative to the manifest's file (made absolute).
std::string manifest_pin_key(const LoadedManifest& m, const PluginPin& pin);

// The manifest's SHA-256 pins as LoadOptions::sha256_pins wants them (key -> hash).
std::map<std::string, std::string> manifest_pins(const LoadedManifest& m);

}  // namespace bricks::manifest
