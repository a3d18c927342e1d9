// The parts of validate_manifest, one per concern. Internal to bricks_manifest. Each
// appends what it finds to `diags`.
#pragma once

#include <vector>

#include "manifest/manifest.h"

namespace bricks::manifest {

// Kinds and names of bricks, their params, how many of each kind, capabilities.
void check_bricks(const LoadedManifest& m, const host::Catalogue& catalogue,
                  std::vector<Diagnostic>& diags);

// Every pin satisfied by a plugin file the scan accepted (catalogue.pin_problems).
void check_pins_satisfied(const LoadedManifest& m, const host::Catalogue& catalogue,
                          std::vector<Diagnostic>& diags);

// One brick's params against its declaration; `path` names the brick (`bricks[2]`).
void check_params(const LoadedManifest& m, const std::string& path, const Brick& brick,
                  const host::BrickInfo& info, std::vector<Diagnostic>& diags);

// Every number finite and every string UTF-8, in any field (validate_values.cpp).
void check_values(const LoadedManifest& m, std::vector<Diagnostic>& diags);

// Device, model, plugin paths and pins, workload: everything that needs no catalogue.
void check_sections(const LoadedManifest& m, std::vector<Diagnostic>& diags);

}  // namespace bricks::manifest
