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

// A param value as written, typed by which field of the oneof is set (param_map.cpp); no
// value at all reads as an empty STRING.
host::ParamValue as_written(const Value& v);

// Every number finite and every string UTF-8, in any field (validate_values.cpp).
void check_values(const LoadedManifest& m, std::vector<Diagnostic>& diags);

// Device, model, plugin paths and pins, workload: everything that needs no catalogue.
void check_sections(const LoadedManifest& m, std::vector<Diagnostic>& diags);

// Requests of the workload that the scheduler's configured limits can never schedule
// (validate_limits.cpp).
void check_limits(const LoadedManifest& m, const host::Catalogue& catalogue,
                  std::vector<Diagnostic>& diags);

// The model's context in tokens where the manifest alone says it: a builtin model on a
// device that computes it. 0 when only the model file knows (then the run checks before
// it draws a prompt).
int32_t known_context(const Manifest& m);

// Whether workload.context_overflow makes requests fit (truncate_prompt, clamp_max_tokens).
bool overflow_is_fitted(const Workload& w);

}  // namespace bricks::manifest
